"""The ``convcalc`` command line: parse → compute → render, and errors mapped to exit code 2.

Commands stay a few lines each: they build the model mapping (CONTRACT section 3), hand it to
the engine, and print what a renderer returns. Options every computing command shares are
declared once (:func:`computing`). Every error a user can cause — ConvCalcError from the engine
or the readers, a usage error from the parser — is turned into ``Error: ...`` on stderr and exit
code 2 in exactly one place, :meth:`ConvCalcGroup.main`. Heavy modules (yaml, rich) are imported
only by the commands that need them, so ``conv --format json`` and completion start fast.
"""

# No `from __future__ import annotations` here: typer reads every command's annotations, and
# string annotations would be compiled and evaluated for each parameter on every run.
import enum
import functools
import gc
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NamedTuple, NoReturn

import typer
from typer.core import TyperGroup

from . import __version__
from ._catalogue import find_kind
from ._completion import use_our_bash_script
from ._errors import ConvCalcError, SpecError
from ._settings import (
    ColorBy,
    DType,
    Framework,
    GroupBy,
    Layout,
    Optimizer,
    OutputFormat,
    SortBy,
    View,
)
from ._terminal import output_width, parse_columns
from ._typer_compat import click_errors as _click_errors
from ._typer_compat import command_builders, narrow_help
from ._values import Invalid, show

# -- errors: the one place that maps them to exit code 2 ------------------------------------

USAGE_EXIT = 2


MAX_MESSAGE = 2_000
"""The longest error shown: click's own messages quote a value whole."""


def _fail(message: str, hint: str | None = None) -> NoReturn:
    """``Error: message`` on stderr, exit 2: control characters escaped (names are data, never
    terminal codes), a message cut to MAX_MESSAGE, wrapped to a terminal."""
    from ._values import escape

    message = escape(message)
    if len(message) > MAX_MESSAGE:
        cut = len(message) - MAX_MESSAGE
        message = (
            f"{message[: MAX_MESSAGE // 2]}... ({cut:,} characters cut) ..."
            + message[-MAX_MESSAGE // 2 :]
        )
    text = f"Error: {message}"
    try:
        if sys.stderr.isatty():  # a person reads it: fit the terminal
            import textwrap

            text = "\n".join(textwrap.wrap(text, _columns(), subsequent_indent="  "))
        typer.echo(text, err=True)
        if hint:
            typer.echo(hint, err=True)
    except (OSError, ValueError, AttributeError):  # stderr closed or full: the exit code says it
        pass
    raise SystemExit(USAGE_EXIT)


class ConvCalcGroup(TyperGroup):
    """The top-level command group: commands built on first use, and convcalc's error handling."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(_lazy_commands())

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            build = _lazy_commands().get(cmd_name)
            if build is None:  # a misspelling: build them all, for typer's "did you mean"
                for name, make in _lazy_commands().items():
                    self.commands.setdefault(name, make())
                return None
            self.commands[cmd_name] = build()
        return self.commands[cmd_name]

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ConvCalcError as problem:
            _fail(str(problem))
        except _click_errors.NoArgsIsHelpError as problem:
            typer.echo(problem.format_message())  # bare `convcalc`: the help, as a usage error
            raise SystemExit(USAGE_EXIT) from None
        except _click_errors.NoSuchOption as problem:
            if problem.option_name.lstrip("-").isdigit():  # `conv -1 28 1`: a negative size
                given = list(sys.argv[1:] if args is None else args)
                # click reads -28 as the flags -2 -8: name the whole value the user typed
                typed = next(
                    (a for a in given if a.startswith(problem.option_name)), problem.option_name
                )
                _fail(
                    f"SHAPE sizes must be positive integers, not {typed}; give the shape "
                    "without the batch, e.g. 28 28 1"
                )
            command = problem.ctx.command_path if problem.ctx else "convcalc"
            _fail(problem.format_message(), f"(see '{command} --help')")
        except _click_errors.UsageError as problem:
            command = problem.ctx.command_path if problem.ctx else "convcalc"
            _fail(problem.format_message(), f"(see '{command} --help')")
        except _click_errors.ClickException as problem:
            _fail(problem.format_message())
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            raise SystemExit(130) from None
        except SystemExit as done:
            # typer ends a run whose reader went away (| head) with exit 1, which convcalc
            # keeps for its own bugs: the output was simply not wanted any more.
            if done.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
                raise SystemExit(0) from None
            raise
        except BrokenPipeError:  # the reader went away (| head): nothing more to say
            _quiet_stdout()
            raise SystemExit(0) from None
        except OSError as problem:  # writing the output failed: a full disk, a closed file
            _quiet_stdout()
            _fail(f"cannot write the output: {problem.strerror or problem}")
        except Exception as problem:  # a bug of ours: say so plainly, never a traceback
            if os.environ.get("CONVCALC_DEBUG"):
                raise
            typer.echo(
                f"Error: internal error ({type(problem).__name__}: {problem}). This is a bug in "
                "convcalc, not in your input; please report it with the command you ran "
                "(CONVCALC_DEBUG=1 shows the traceback).",
                err=True,
            )
            raise SystemExit(1) from None
        if standalone_mode:
            raise SystemExit(code if isinstance(code, int) else 0)
        return code


use_our_bash_script()

commands = typer.Typer()
"""Where the commands are registered; ``ConvCalcGroup`` builds each from here when asked.

typer builds every command of an app, with all its options, before it runs any: about 3 ms
for ours, paid by every run and every TAB. Kept apart from ``app``, only the command that
runs is built.
"""

app = typer.Typer(
    cls=ConvCalcGroup,
    name="convcalc",
    help="Shapes, parameters, MACs, memory and receptive fields of CNN layers, by arithmetic.",
    epilog="Shapes are written without the batch, in the layout's order: 28 28 1 is H W C "
    "(Keras); with --layout chw, 1 28 28 is C H W (PyTorch). Per-axis values go H then W: "
    "3x5 or (3, 5). In the table, RF is each output's receptive field, size/jump in input "
    "pixels; --explain shows every formula with the numbers put in. Examples: convcalc conv "
    "28 28 1 --filters 32 --kernel 3; convcalc chain 28 28 1 conv:32,3 maxpool:2 flatten "
    "dense:10; convcalc model zoo:mnist_cnn.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # click's plain help: it wraps to the terminal without cutting option names (rich's
    # panels cut them at 40 columns) and needs no rich at all.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"convcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Answers what comes out of a CNN layer — shape, parameters, MACs, memory, receptive
    field — exactly as Keras or PyTorch would, without either installed."""


# -- the options every computing command takes, declared once -------------------------------


class Common(NamedTuple):
    """Values of the shared options; None where the user did not give one."""

    framework: Framework | None = None
    layout: Layout | None = None
    batch: str | None = None
    dtype: DType | None = None
    format: OutputFormat | None = None
    explain: bool | None = None
    depth: str | None = None
    train: bool | None = None
    optimizer: Optimizer | None = None
    amp: bool | None = None
    fit: str | None = None
    input: str | None = None
    color_by: ColorBy | None = None
    percent: bool | None = None
    sort: SortBy | None = None
    top: int | None = None
    group_by: GroupBy | None = None

    def view(self) -> View:
        """How the rows are shown: the hotspot options (``--percent``, ``--sort``, ``--top``,
        ``--group-by``)."""
        return View(bool(self.percent), self.sort, self.top, self.group_by)

    def training(self) -> Optimizer | None:
        """``--train``: the optimizer a training estimate assumes (adam unless named); None
        without --train. --optimizer or --amp alone imply it."""
        if self.train is False or not (self.train or self.optimizer or self.amp):
            return None
        return self.optimizer or Optimizer.ADAM

    def batches(self) -> list[int | None]:
        """``--batch``: one size, or several for a sweep; [None] when not given."""
        if self.batch is None:
            return [None]
        from ._values import WholeNumber

        found: list[int | None] = []
        for item in self.batch.split(","):
            try:
                found.append(WholeNumber().parse(item.strip(), 0))
            except Invalid as problem:
                raise SpecError(
                    f"--batch {show(self.batch)} is not valid: {problem.reason}; give a batch "
                    "size, or several separated by commas (1,8,32)"
                ) from None
        return found

    def overrides(self) -> dict[str, object]:
        """The model-file keys these options set (a command-line option overrides the file)."""
        batches = self.batches()
        values = {
            "framework": self.framework,
            "layout": self.layout,
            "batch": batches[0] if len(batches) == 1 else None,
            "dtype": self.dtype,
            "explain": self.explain,
        }
        return {
            key: value.value if isinstance(value, enum.Enum) else value
            for key, value in values.items()
            if value is not None
        }


_COMMON_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (
        (
            "framework",
            Annotated[
                Framework | None,
                typer.Option(
                    help="Whose rules apply where Keras and PyTorch differ",
                    case_sensitive=False,
                    show_default="keras",
                ),
            ],
        ),
        (
            "layout",
            Annotated[
                Layout | None,
                typer.Option(
                    help="hwc (channels last) or chw (channels first)",
                    case_sensitive=False,
                    show_default="hwc for keras, chw for pytorch",
                ),
            ],
        ),
        (
            "batch",
            Annotated[
                str | None,
                typer.Option(
                    metavar="N[,N...]",
                    help="Batch size: shown first in shapes, scales activation memory; "
                    "several (1,8,32) give one row of totals each",
                ),
            ],
        ),
        (
            "dtype",
            Annotated[
                DType | None,
                typer.Option(
                    help="Element type, for memory", case_sensitive=False, show_default="float32"
                ),
            ],
        ),
        (
            "format",
            Annotated[
                OutputFormat | None,
                typer.Option(
                    "--format",
                    "-f",
                    help="Output format",
                    case_sensitive=False,
                    show_default="table",
                ),
            ],
        ),
        (
            "explain",
            Annotated[
                bool | None,
                typer.Option(
                    "--explain/--no-explain",
                    help="Show each layer's formulas with the numbers put in",
                    show_default=False,
                ),
            ],
        ),
        (
            "depth",
            Annotated[
                str | None,
                typer.Option(
                    metavar="N|all",
                    help="Fold layers nested deeper than N into their block's row; all "
                    "shows every layer (long tables fold by default)",
                ),
            ],
        ),
        (
            "train",
            Annotated[
                bool | None,
                typer.Option(
                    "--train/--no-train",
                    help="Also a training step: weights, gradients, optimizer state, the "
                    "activations autograd saves for the backward, forward+backward MACs",
                    show_default=False,
                ),
            ],
        ),
        (
            "optimizer",
            Annotated[
                Optimizer | None,
                typer.Option(
                    help="With --train: the optimizer's state per trainable parameter (sgd 0, "
                    "momentum 1, adam and adamw 2)",
                    case_sensitive=False,
                    show_default="adam",
                ),
            ],
        ),
        (
            "amp",
            Annotated[
                bool | None,
                typer.Option(
                    "--amp/--no-amp",
                    help="With --train: mixed precision, float32 weights, gradients and "
                    "optimizer state, float16 saved activations",
                    show_default=False,
                ),
            ],
        ),
        (
            "input",
            Annotated[
                str | None,
                typer.Option(
                    "--input",
                    help="Another input, in the layout's order: the spatial size alone "
                    "(320x320) keeps the channels; several (224,320,512) give one row of "
                    "totals each",
                ),
            ],
        ),
        (
            "fit",
            Annotated[
                str | None,
                typer.Option(
                    metavar="MEMORY",
                    help="The largest batch whose memory fits MEMORY (24GiB, 24GB, 8000MiB): "
                    "training's with --train, else parameters and the live activations",
                ),
            ],
        ),
        (
            "color_by",
            Annotated[
                ColorBy | None,
                typer.Option(
                    "--color-by",
                    help="svg and html: shade each box by its share of the model's macs, "
                    "params or memory (weights and output)",
                    case_sensitive=False,
                    show_default="macs",
                ),
            ],
        ),
        (
            "percent",
            Annotated[
                bool | None,
                typer.Option(
                    "--percent",
                    help="Each row's share of the model's params and MACs",
                    show_default=False,
                ),
            ],
        ),
        (
            "sort",
            Annotated[
                SortBy | None,
                typer.Option(
                    help="Rows largest first by params, MACs or memory (weights and output; "
                    "with --train, the training step's)",
                    case_sensitive=False,
                    show_default=False,
                ),
            ],
        ),
        (
            "top",
            Annotated[
                int | None,
                typer.Option(
                    metavar="N",
                    min=1,
                    help="Only the N largest rows (by MACs unless --sort)",
                    show_default=False,
                ),
            ],
        ),
        (
            "group_by",
            Annotated[
                GroupBy | None,
                typer.Option(
                    help="One row per layer type, summing its layers",
                    case_sensitive=False,
                    show_default=False,
                ),
            ],
        ),
    )
]


def computing(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared options; it receives their values as ``common: Common``."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "common"]
    names = [p.name for p in _COMMON_OPTIONS]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        common = Common(**{name: kwargs.pop(name) for name in names})
        func(*args, common=common, **kwargs)

    params = own + _COMMON_OPTIONS
    command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


# -- shared steps: build, compute, print -----------------------------------------------------


def _shape(items: Sequence[str], what: str = "SHAPE") -> list[int]:
    """An input shape from the command line: ``28 28 1`` or ``28x28x1``."""
    from ._values import parse_shape

    return list(parse_shape("x".join(items) if items else None, what, " ".join(items)))


def _report_and_print(spec: dict[str, object], common: Common, source: str = "SHAPE") -> None:
    from ._model import read_model, run

    inputs = None
    if common.input is not None:
        inputs = [
            _input_override(spec, one, common, source)
            for one in _sweep_inputs(common.input, spec, common)
        ]
    batches = common.batches()
    if len(batches) > 1 or (inputs is not None and len(inputs) > 1):
        if common.fit is not None:
            raise SpecError("--fit finds one batch: give one input size and no --batch list")
        _check_view(
            common,
            "a sweep, which shows one row of totals per setting",
            "give one input size and one batch",
        )
        _check_color_by(common, common.format or OutputFormat.TABLE)
        _sweep(spec, common, inputs or [list(spec["input"])], batches)  # type: ignore[call-overload]
        return
    if inputs is not None:
        spec["input"] = inputs[0]
    spec.update(common.overrides())
    model = read_model(spec)
    view = common.view()
    drawn = common.format or model.format or OutputFormat.TABLE
    if drawn.draws:
        _check_view(
            common,
            f"--format {drawn.value}, which draws the network's rows in order with their edges",
            "use --format table, json, markdown or csv",
            percent=False,
        )
    _check_color_by(common, drawn)
    if common.explain and drawn in (OutputFormat.SVG, OutputFormat.MERMAID, OutputFormat.DOT):
        raise SpecError(
            f"--explain shows each layer's working, and --format {drawn.value} draws the "
            "network without it; use --format html (the diagram and the working), table, "
            "markdown or json, or leave out --explain"
        )
    if common.group_by is not None and common.explain:
        raise SpecError(
            "--group-by sums layers per type, and --explain shows each layer's working; leave "
            "out one of them"
        )
    optimizer = common.training()
    if optimizer is not None:
        settings = model.settings._replace(train=optimizer, amp=bool(common.amp))
        model = model._replace(settings=settings)
    if common.fit is not None:
        from ._fit import fit, parse_budget

        found = fit(model, parse_budget(common.fit))
        at = model._replace(settings=model.settings._replace(batch=max(found.batch, 1)))
        report = run(at)._replace(fit=found)
    else:
        report = run(model)
    output_format = common.format or model.format or OutputFormat.TABLE
    depth = _depth(common.depth)
    if depth is None and (output_format is OutputFormat.TABLE or output_format.draws):
        depth = None if _short(view) else _default_depth(report)
        if depth is not None:
            shown = len(_fold(report, depth).layers)
            report = report._replace(
                notes=(
                    *report.notes,
                    f"{len(report.layers):,} layers are shown as {shown:,} rows, blocks folded "
                    f"below depth {depth}; --depth all shows every layer",
                )
            )
    if depth is not None:
        report = _fold(report, depth)
    if view != View():
        from ._hotspots import hotspots

        report = hotspots(report, view)  # on the rows shown: blocks folded first
    if output_format is OutputFormat.MERMAID:  # whole, to be measured against Mermaid's limit
        from ._render._graphtext import mermaid_notes, render_mermaid

        text = render_mermaid(report)
        sys.stdout.write(text)
        report = report._replace(notes=(*report.notes, *mermaid_notes(text)))
    else:
        _print(report, output_format, common.color_by)
    if output_format in (
        OutputFormat.JSON,
        OutputFormat.CSV,
        OutputFormat.SVG,
        OutputFormat.MERMAID,
        OutputFormat.DOT,
    ):
        # A CSV or a diagram has no place for them; a JSON reader may not look: all also get
        # them here, where a person running the command sees them.
        from ._values import escape

        for note in report.notes:
            typer.echo(f"Note: {escape(note)}", err=True)


def _sweep(
    spec: dict[str, object], common: Common, inputs: list[list[int]], batches: list[int | None]
) -> None:
    """One row of totals per input and batch (``--input 224,320 --batch 1,8``)."""
    from ._model import read_model, run
    from ._render._sweep import render_sweep

    if len(inputs) * len(batches) > MAX_SWEEP:
        raise SpecError(
            f"the sweep asks for {len(inputs) * len(batches):,} runs ({len(inputs):,} inputs x "
            f"{len(batches):,} batches); convcalc runs at most {MAX_SWEEP:,}: give fewer values"
        )
    runs = []
    base = {**spec, **common.overrides()}
    optimizer = common.training()
    for shape in inputs:
        for batch in batches:
            model = read_model({**base, "input": shape, "batch": batch})
            if optimizer is not None:
                settings = model.settings._replace(train=optimizer, amp=bool(common.amp))
                model = model._replace(settings=settings)
            runs.append(run(model))
    output_format = common.format or OutputFormat.TABLE
    width = output_width(sys.stdout) if output_format is OutputFormat.TABLE else None
    sys.stdout.write(render_sweep(runs, output_format, width=width))


MAX_SWEEP = 1_000
"""Runs one sweep may ask for: more is a mistake, and would take minutes on a big model."""

FOLD_ROWS = 60
"""A table longer than this, of a model with blocks, is folded to the deepest level that fits."""


def _depth(raw: str | None) -> int | None:
    """``--depth``: a level from 0, or ``all`` (-1: nothing folded); None when not given."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() == "all":
        return -1
    if not text.isdigit() or len(text) > 6:
        raise SpecError(
            f"--depth {show(raw)} is not valid: give a level from 0 (0 folds every block into "
            "one row) or all"
        )
    return int(text)


def _fold(report: Any, depth: int) -> Any:
    from ._report import fold

    return report if depth < 0 else fold(report, depth)


def _default_depth(report: Any) -> int | None:
    """The deepest level at which a long table of nested blocks fits FOLD_ROWS rows; None
    when the whole table is short or flat."""
    if len(report.layers) <= FOLD_ROWS:
        return None
    deepest = max(row.depth for row in report.layers)
    if deepest == 0:
        return None
    for depth in range(deepest - 1, -1, -1):
        if len(_fold(report, depth).layers) <= FOLD_ROWS:
            return depth
    return 0


def _short(view: View) -> bool:
    """Whether the hotspot options already make the rows few (groups, or a short top), so
    every layer is ranked rather than blocks folded by default."""
    return view.group_by is not None or (view.top is not None and view.top <= FOLD_ROWS)


def _check_view(common: Common, where: str, fix: str, percent: bool = True) -> None:
    """Refuse the hotspot options where they cannot apply: ``<options> cannot be used with
    <where>; <fix>, or leave out <options>`` (``percent``: --percent is among them)."""
    given = [
        flag
        for flag, value in (
            ("--percent", common.percent and percent),
            ("--sort", common.sort),
            ("--top", common.top),
            ("--group-by", common.group_by),
        )
        if value
    ]
    if given:
        options = " and ".join(given)
        raise SpecError(f"{options} cannot be used with {where}; {fix}, or leave out {options}")


def _check_color_by(common: Common, output_format: OutputFormat) -> None:
    """Refuse ``--color-by`` (None unless given) with a format whose boxes it cannot shade."""
    if common.color_by is not None and output_format not in (OutputFormat.SVG, OutputFormat.HTML):
        raise SpecError(
            f"--color-by shades the boxes of --format svg or html, and --format "
            f"{output_format.value} has none; use one of those, or leave out --color-by"
        )


def _print(report: Any, output_format: OutputFormat, color_by: ColorBy | None = None) -> None:
    if output_format is OutputFormat.TABLE:
        from ._render import print_table

        print_table(report)
        return
    if output_format in (OutputFormat.SVG, OutputFormat.HTML):  # one picture, whole
        from ._render import render

        sys.stdout.write(render(report, output_format, color_by=color_by or ColorBy.MACS))
        return
    from ._render import chunks

    batch: list[str] = []
    size = 0
    for piece in chunks(report, output_format):  # a piece at a time: large models stay small
        batch.append(piece)
        size += len(piece)
        if size > 65_536:
            sys.stdout.write("".join(batch))
            batch.clear()
            size = 0
    sys.stdout.write("".join(batch))


def _given(**options: object) -> dict[str, object]:
    """Only the options the user gave, so the engine knows which values are defaults."""
    return {key: value for key, value in options.items() if value is not None}


def _param_option(kind: str, param: str, *flags: str) -> Any:
    """A typer option whose help, shown default and completion come from the catalogue, never
    written twice."""
    found = find_kind(kind)
    assert found is not None
    spec = found.param(param)
    shown = False if spec.required else spec.default_text
    return typer.Option(
        *flags,
        help=spec.help,
        show_default=shown,
        autocompletion=lambda incomplete: _complete_value(kind, param, incomplete),
    )


ShapeArg = Annotated[
    list[str],
    typer.Argument(
        metavar="SHAPE",
        help="Input shape without batch, in the layout's order: 28 28 1 (H W C) or 1 28 28 "
        "(C H W); 2 numbers for 1-D data, 1 for a flat vector, 4 for 3-D",
        show_default=False,
    ),
]


# -- commands ---------------------------------------------------------------------------------


@commands.command(short_help="One convolution, 1-, 2- or 3-D by the rank of SHAPE.")
@computing
def conv(
    shape: ShapeArg,
    filters: Annotated[int, _param_option("conv2d", "filters")],
    kernel: Annotated[str, _param_option("conv2d", "kernel")],
    stride: Annotated[str | None, _param_option("conv2d", "stride")] = None,
    padding: Annotated[str | None, _param_option("conv1d", "padding")] = None,
    dilation: Annotated[str | None, _param_option("conv2d", "dilation")] = None,
    groups: Annotated[int | None, _param_option("conv2d", "groups")] = None,
    bias: Annotated[bool | None, _param_option("conv2d", "bias", "--bias/--no-bias")] = None,
    activation: Annotated[str | None, _param_option("conv2d", "activation")] = None,
    *,
    common: Common,
) -> None:
    """One convolution: conv1d, conv2d or conv3d, chosen by the rank of SHAPE (a note says
    which when it is not 2-D)."""
    layer = _given(
        filters=filters,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        activation=activation,
    )
    _single(_shape(shape), "conv", layer, common)


class PoolKind(str, enum.Enum):
    MAX = "max"
    AVG = "avg"


@commands.command(short_help="One pooling layer, max or average.")
@computing
def pool(
    shape: ShapeArg,
    size: Annotated[str | None, _param_option("maxpool2d", "size")] = None,
    stride: Annotated[str | None, _param_option("maxpool2d", "stride")] = None,
    padding: Annotated[str | None, _param_option("maxpool2d", "padding")] = None,
    kind: Annotated[
        PoolKind, typer.Option(help="max or average pooling", case_sensitive=False)
    ] = PoolKind.MAX,
    ceil_mode: Annotated[
        bool | None,
        _param_option("maxpool2d", "ceil_mode", "--ceil-mode"),
    ] = None,
    *,
    common: Common,
) -> None:
    """One pooling layer: max or average, on 1, 2 or 3 spatial axes by the rank of SHAPE."""
    layer = _given(size=size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    _single(_shape(shape), kind.value + "pool", layer, common)


@commands.command(short_help="One dense (fully connected) layer.")
@computing
def dense(
    shape: ShapeArg,
    units: Annotated[int, _param_option("dense", "units")],
    bias: Annotated[bool | None, _param_option("dense", "bias", "--bias/--no-bias")] = None,
    activation: Annotated[str | None, _param_option("dense", "activation")] = None,
    *,
    common: Common,
) -> None:
    """One dense (fully connected) layer, on the last axis of SHAPE."""
    layer = _given(units=units, bias=bias, activation=activation)
    _single(_shape(shape), "dense", layer, common)


def _single(shape: list[int], type_name: str, layer: dict[str, object], common: Common) -> None:
    if len(shape) == 1 and type_name != "dense":
        raise SpecError(
            f"SHAPE {shape[0]} is a flat vector, which has no spatial axes to "
            f"{'convolve' if type_name.startswith('conv') else 'pool'}; give e.g. 28 28 1"
        )
    _report_and_print({"input": shape, "layers": [{type_name: layer}]}, common)


@commands.command(short_help="A chain of layers in shorthand: conv:32,3 maxpool:2 ...")
@computing
def chain(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="SHAPE... LAYER...",
            help="The input shape, then layers as TYPE[:ARGS]: "
            "conv:32,3 maxpool:2 flatten dense:10",
            show_default=False,
            autocompletion=lambda incomplete: _complete_chain(incomplete),
        ),
    ],
    *,
    common: Common,
) -> None:
    """A chain of layers in shorthand: TYPE[:ARGS], ARGS positional values then key=value."""
    from ._input._chain import parse_chain

    count = next((i for i, item in enumerate(items) if not _is_size(item)), len(items))
    if count == len(items):
        raise SpecError(
            "no layers after the shape; add some, e.g. "
            "convcalc chain 28 28 1 conv:32,3 maxpool:2 flatten dense:10"
        )
    layers = parse_chain(items[count:])
    _report_and_print({"input": _shape(items[:count]), "layers": layers}, common)


def _is_size(item: str) -> bool:
    text = item.strip().lstrip("+-")
    return bool(text) and all(part.isdigit() for part in text.lower().split("x"))


def _model_argument(metavar: str) -> Any:
    """The argument naming a model, as every command that reads one takes it."""
    return typer.Argument(
        metavar=metavar,
        help="A model file (YAML, a Keras .json or .keras, ONNX), '-' for standard input, or "
        "zoo:NAME",
        show_default=False,
        autocompletion=lambda incomplete: _complete_model(incomplete),
    )


@commands.command(short_help="A network from a YAML file, standard input or zoo:NAME.")
@computing
def model(
    file: Annotated[str, _model_argument("FILE")],
    *,
    common: Common,
) -> None:
    """A whole network from a model file: YAML (`convcalc zoo show mnist_cnn` shows one), a
    Keras config (model.to_json(), .keras) or an ONNX graph."""
    _report_and_print(_load_model(file), common, source=file)


@commands.command(short_help="Two models, or one at two settings, compared.")
@computing
def diff(
    first: Annotated[str, _model_argument("A")],
    second: Annotated[
        str | None,
        typer.Argument(
            metavar="[B]",
            help="The model to compare A with (default: A itself, at the --vs-* settings)",
            show_default=False,
            autocompletion=lambda incomplete: _complete_model(incomplete),
        ),
    ] = None,
    vs_input: Annotated[
        str | None,
        typer.Option(
            "--vs-input",
            metavar="SIZE",
            help="B's input, read as --input is (320x320 keeps the channels)",
        ),
    ] = None,
    vs_framework: Annotated[
        Framework | None,
        typer.Option("--vs-framework", help="B's framework", case_sensitive=False),
    ] = None,
    vs_layout: Annotated[
        Layout | None, typer.Option("--vs-layout", help="B's layout", case_sensitive=False)
    ] = None,
    vs_batch: Annotated[
        str | None, typer.Option("--vs-batch", metavar="N", help="B's batch size")
    ] = None,
    vs_dtype: Annotated[
        DType | None, typer.Option("--vs-dtype", help="B's element type", case_sensitive=False)
    ] = None,
    *,
    common: Common,
) -> None:
    """Compare two models, or one model at two settings: the settings and totals side by side
    with B − A and B / A, then the rows that differ, matched by name. The other options apply
    to A and B alike; a --vs-* option gives B's value instead (with or without B)."""
    vs = Common(
        input=vs_input, framework=vs_framework, layout=vs_layout, batch=vs_batch, dtype=vs_dtype
    )
    _compare(first, second, common, vs)


VS_OPTIONS = {
    "input": "--vs-input",
    "framework": "--vs-framework",
    "layout": "--vs-layout",
    "batch": "--vs-batch",
    "dtype": "--vs-dtype",
}
"""The options that give B's setting instead of the shared one (``Common`` field -> flag)."""


def _compare(first: str, second: str | None, common: Common, vs: Common) -> None:
    """``convcalc diff``: A and B, each computed as ``convcalc model`` computes one, compared."""
    from ._diff import diff, fitting_depth
    from ._render._diff import render_diff

    given = {key: value for key, value in vs._asdict().items() if value is not None}
    if second is None and not given:
        raise SpecError(
            "diff needs something to compare A with: a second model (convcalc diff A B), or "
            f"another setting for A ({', '.join(VS_OPTIONS.values())}), e.g. convcalc diff "
            "zoo:resnet50 --vs-input 320x320"
        )
    if first == "-" and second == "-":
        raise SpecError("standard input can be read only once: give at most one of A and B as -")
    if common.explain:
        raise SpecError("diff shows no working: see each model's with convcalc model A --explain")
    _check_view(
        common,
        "diff, which lists the rows that differ in execution order",
        "run convcalc model on each model for them",
    )
    if common.color_by is not None:
        raise SpecError(
            "--color-by shades a diagram's boxes, and diff draws none; leave out --color-by"
        )
    if common.fit is not None:
        raise SpecError(
            "--fit finds one model's batch, and diff compares two at the batch given (--batch, "
            "--vs-batch): run convcalc model A --fit MEMORY on each"
        )
    spec = _load_model(first)
    other = dict(spec) if second is None else _load_model(second)
    a = _diff_side(spec, common, first, "A", {})
    b = _diff_side(other, common._replace(**given), second or first, "B", given)
    output_format = common.format or OutputFormat.TABLE
    depth = _depth(common.depth)
    notes = []
    if depth is None and output_format is OutputFormat.TABLE:
        depth = fitting_depth(a, b, FOLD_ROWS)
        if depth is not None:
            notes.append(
                f"blocks are folded below depth {depth}, so that the rows that differ fit; "
                "--depth all compares every layer"
            )
    changed = [f"{VS_OPTIONS[key]} {getattr(v, 'value', v)}" for key, v in given.items()]
    labels = (_source_label(first), " ".join([_source_label(second or first), *changed]))
    found = diff(a, b, labels=labels, depth=depth, notes=notes)
    width = (output_width(sys.stdout) or 80) if output_format is OutputFormat.TABLE else None
    sys.stdout.write(render_diff(found, output_format, width=width))
    if output_format in (OutputFormat.JSON, OutputFormat.CSV):
        from ._values import escape

        for note in found.notes:
            typer.echo(f"Note: {escape(note)}", err=True)


def _source_label(source: str) -> str:
    return "standard input" if source == "-" else source


def _diff_side(
    spec: dict[str, object], common: Common, source: str, which: str, given: dict[str, object]
) -> Any:
    """One side of a diff: the model of ``spec`` at the options' settings, its report; an
    error of the model itself says which side it is."""
    from ._model import read_model, run
    from ._values import WholeNumber

    if common.batch is not None:
        option = VS_OPTIONS["batch"] if "batch" in given else "--batch"
        try:
            WholeNumber().parse(common.batch.strip(), 0)
        except Invalid as problem:
            several = "," in common.batch
            raise SpecError(
                f"{option} {show(common.batch)} is not valid: "
                + ("diff compares one batch with another" if several else problem.reason)
                + "; give one batch size (B's with --vs-batch)"
            ) from None
    if common.input is not None:
        option = VS_OPTIONS["input"] if "input" in given else "--input"
        try:
            shapes = _sweep_inputs(common.input, spec, common)
        except SpecError:  # it reads as several sizes
            shapes = []
        if len(shapes) != 1:
            raise SpecError(
                f"{option} {show(common.input)} gives several inputs, and diff compares one "
                "with another: give one shape, written with x (224x224), and B's with --vs-input"
            )
        spec["input"] = _input_override(spec, shapes[0], common, source, option)
    spec.update(common.overrides())
    try:
        model = read_model(spec)
        optimizer = common.training()
        if optimizer is not None:
            settings = model.settings._replace(train=optimizer, amp=bool(common.amp))
            model = model._replace(settings=settings)
        return run(model)
    except ConvCalcError as problem:
        raise type(problem)(f"{which} ({_source_label(source)}): {problem}") from None


def _sweep_inputs(text: str, spec: dict[str, object], common: Common) -> list[str]:
    """``--input``: one shape, or several sizes separated by commas for a sweep
    (``224,320,512``: each a square, or ``224x160,320x240``). Commas inside brackets belong to
    one shape (``(3, 224, 224)``); a list of plain numbers that also reads as one shape is
    refused with both readings."""
    from ._values import parse_shape

    if "," not in text or any(mark in text for mark in "[("):
        return [text]
    items = [item.strip() for item in text.split(",")]
    try:
        current = parse_shape(spec.get("input"))
    except ConvCalcError:
        return [text]
    from ._model import read_settings

    rank = len(current) - 1
    plain = all(item.isdigit() for item in items)
    settings = read_settings({**spec, **common.overrides()})
    at = 0 if settings.layout is Layout.CHW else -1
    if plain and len(items) == len(current) and int(items[at]) == current[at]:
        return ["x".join(items)]  # a whole shape written as code writes it: 3,224,224
    if plain and len(items) == rank and rank >= 2:
        square = ",".join("x".join([item] * rank) for item in items)
        raise SpecError(
            f"--input {show(text)} reads two ways: as one shape "
            f"({'x'.join(items)}), or as a sweep of {len(items)} sizes; write the shape with "
            f"x ({'x'.join(items)}) or the sweep with each size in full ({square})"
        )
    return ["x".join([item] * rank) if item.isdigit() and rank > 1 else item for item in items]


def _input_override(
    spec: dict[str, object], text: str, common: Common, source: str, option: str = "--input"
) -> list[int]:
    """``--input`` (or ``option``) read in the model's layout: the spatial size alone keeps
    the model's channels; a whole shape whose channels sit at the other end is refused."""
    from ._model import read_settings
    from ._values import parse_shape

    given = list(parse_shape(text, option))
    try:
        current = parse_shape(spec.get("input"))
    except ConvCalcError:
        return given  # the model's own input is wrong: reading the model says how
    settings = read_settings({**spec, **common.overrides()})
    channels_last = settings.layout is Layout.HWC
    channels = current[-1] if channels_last else current[0]
    order = "H W C" if channels_last else "C H W"
    if len(current) >= 2 and len(given) == len(current) - 1:
        return given + [channels] if channels_last else [channels, *given]
    if len(given) == len(current) >= 3:
        there, other = (given[-1], given[0]) if channels_last else (given[0], given[-1])
        if there != channels and other == channels:
            spatial = given[:-1] if not channels_last else given[1:]
            fixed = (*spatial, channels) if channels_last else (channels, *spatial)
            raise SpecError(
                f"{option} {show(text)} has its {channels} channels at the wrong end: {source} "
                f"reads shapes as {order} (layout {settings.layout.value}), so it would have "
                f"{there} channels; write {'x'.join(map(str, fixed))}, or the spatial size "
                f"alone ({'x'.join(map(str, spatial))})"
            )
    return given


def _load_model(source: str) -> dict[str, object]:
    from ._input._yaml import read_model_source
    from ._input._zoo import PREFIX, load_zoo, zoo_names

    if source.startswith(PREFIX):
        return load_zoo(source[len(PREFIX) :])
    if source in zoo_names() and not os.path.exists(source):
        raise SpecError(
            f"no such file: {source}; for the built-in model write zoo:{source} "
            f"(convcalc model zoo:{source})"
        )
    return read_model_source(source)


@commands.command(
    name="import", short_help="A Keras model config or an ONNX model as a convcalc YAML model."
)
def import_model(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A Keras model config: the JSON of model.to_json(), a .keras file, or '-' "
            "for the JSON on standard input; or an ONNX model (.onnx)",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the YAML to PATH (replacing it) instead of standard output",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The convcalc YAML of a Keras model config or an ONNX graph, to edit: Keras' nested
    models as blocks, the layers' names kept; `convcalc model FILE` reads the file itself to
    the same figures, and what it refuses is not written."""
    from ._input._keras import import_comments, read_keras_source
    from ._input._onnx import is_onnx_source, onnx_comments, read_onnx
    from ._model import analyze
    from ._render._yaml_out import render_model_yaml

    if is_onnx_source(file):
        spec = read_onnx(file)
        text = render_model_yaml(spec, onnx_comments(file))
    else:
        spec = read_keras_source(file)
        text = render_model_yaml(spec, import_comments(file, spec))
    shape = spec.get("input")
    if isinstance(shape, list) and None not in shape:  # an open size waits for --input
        analyze(spec)  # what `convcalc model FILE` refuses is never written out as YAML
    _write_out(text, output)


def _write_out(text: str, output: str | None) -> None:
    """``text`` to standard output, or to the file ``output`` (replacing it)."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except (OSError, ValueError) as problem:
        reason = getattr(problem, "strerror", None) or problem
        raise SpecError(f"cannot write {show(output)}: {reason}") from None


@commands.command(short_help="A model as PyTorch or Keras code.")
def export(
    file: Annotated[str, _model_argument("MODEL")],
    to: Annotated[
        Framework | None,
        typer.Option(
            "--to",
            help="pytorch or keras: the framework the code is for",
            case_sensitive=False,
            show_default="the model's framework",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the code to PATH (replacing it) instead of standard output",
            show_default=False,
        ),
    ] = None,
) -> None:
    """A runnable Python module defining the model: a PyTorch nn.Module or a Keras Functional
    model, one layer per row, named after the rows; built, it has convcalc's parameters,
    trainable parameters and output shapes."""
    from ._api import export_text
    from ._export import export_plan
    from ._model import read_model

    plan = export_plan(read_model(_load_model(file)), to)
    text = export_text(plan, f"convcalc export {file} --to {plan.framework.value}")
    for note in plan.notes:
        typer.echo(f"Note: {note}.", err=True)
    _write_out(text, output)


@commands.command(short_help="The layer catalogue, or one type in full.")
def layers(
    type: Annotated[
        str | None,
        typer.Argument(
            metavar="[TYPE]",
            help="A layer type to show in full (any spelling)",
            show_default=False,
            autocompletion=lambda incomplete: _complete_types(incomplete),
        ),
    ] = None,
) -> None:
    """The layer catalogue: types, aliases, positional order, parameters and defaults."""
    from ._render._catalogue import describe_kind, list_kinds

    width = output_width(sys.stdout)
    if type is None:
        sys.stdout.write(list_kinds(width))
        return
    kind = find_kind(type)
    if kind is None:
        from ._catalogue import spellings
        from ._errors import did_you_mean

        raise SpecError(
            f"unknown layer type '{type}'{did_you_mean(type, spellings())}; "
            "`convcalc layers` lists them"
        )
    sys.stdout.write(describe_kind(kind, width))


def _complete_solve_types(incomplete: str) -> list[str]:
    from ._solve import layer_names

    return [name for name in layer_names() if name.startswith(incomplete)]


_Text = Annotated[str | None, typer.Option(show_default=False)]


@commands.command(short_help="Backwards: the layers that map one size to another.")
def solve(
    size: Annotated[
        str,
        typer.Argument(metavar="IN", help="The input's spatial size: 224, or 224x160 per axis"),
    ],
    out: Annotated[
        str,
        typer.Option("--out", help="The output's spatial size wanted: 112, or 112x80 per axis"),
    ],
    type: Annotated[
        str,
        typer.Option(
            "--type",
            help="conv, depthwise_conv, separable_conv, maxpool, avgpool, conv_transpose, or a "
            "class name with its rank (Conv2d, MaxPooling1D)",
            autocompletion=_complete_solve_types,
        ),
    ] = "conv",
    kernel: Annotated[str | None, typer.Option(help="Fix the kernel (3, or 3x5)")] = None,
    stride: Annotated[str | None, typer.Option(help="Fix the stride")] = None,
    padding: Annotated[
        str | None, typer.Option(help="Fix the padding: valid, same, causal, or zeros per side")
    ] = None,
    dilation: Annotated[str | None, typer.Option(help="Fix the dilation")] = None,
    output_padding: Annotated[
        str | None,
        typer.Option(help="Fix a transposed conv's output_padding (none: Keras' unset)"),
    ] = None,
    ceil_mode: Annotated[
        bool, typer.Option("--ceil-mode", help="PyTorch pools: solve with ceil_mode on")
    ] = False,
    kernels: Annotated[str, typer.Option(help="Kernels searched: LO-HI")] = "1-11",
    strides: Annotated[str, typer.Option(help="Strides searched: LO-HI")] = "1-4",
    dilations: Annotated[str, typer.Option(help="Dilations searched: LO-HI")] = "1-4",
    paddings: Annotated[
        str | None,
        typer.Option(help="Zeros per side searched: LO-HI (default: 0 to the kernel's reach)"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="List at most N solutions, simplest first", min=1)
    ] = None,
    framework: Annotated[
        Framework,
        typer.Option(help="keras or pytorch: whose rules apply", case_sensitive=False),
    ] = Framework.KERAS,
    format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table, json, markdown or csv", case_sensitive=False),
    ] = OutputFormat.TABLE,
    explain: Annotated[
        bool, typer.Option("--explain", help="Each solution's working: why its padding works")
    ] = False,
) -> None:
    """Every kernel, stride, padding and dilation (and output_padding) of one layer that maps
    IN to OUT under the framework's rules, simplest first; options fix values, the rest are
    searched."""
    from ._render._solve import print_solutions, render_solutions
    from ._solve import Bounds, parse_range

    bounds = Bounds(
        kernel=parse_range(kernels, "--kernels"),
        stride=parse_range(strides, "--strides"),
        dilation=parse_range(dilations, "--dilations"),
        padding=None if paddings is None else parse_range(paddings, "--paddings", smallest=0),
    )
    from ._solve import solve as find

    fixed = {
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "output_padding": output_padding,
        "ceil_mode": ceil_mode or None,
    }
    found = find(size, out, type, framework, fixed, bounds, explain=explain, limit=limit)
    if format is OutputFormat.TABLE:
        print_solutions(found)
    else:
        sys.stdout.write(render_solutions(found, format))


@commands.command(short_help="The input sizes a model accepts, per spatial axis.")
def sizes(
    file: Annotated[str, _model_argument("MODEL")],
    range: Annotated[
        str, typer.Option("--range", help="The sizes tried on each axis: LO-HI")
    ] = "1-1024",
    framework: Annotated[
        Framework | None,
        typer.Option(help="keras or pytorch: whose rules apply", case_sensitive=False),
    ] = None,
    layout: Annotated[
        Layout | None,
        typer.Option(help="hwc or chw: where the channels are", case_sensitive=False),
    ] = None,
    format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table, json, markdown or csv", case_sensitive=False),
    ] = OutputFormat.TABLE,
    explain: Annotated[
        bool, typer.Option("--explain", help="Why the sizes just outside are refused")
    ] = False,
) -> None:
    """For each spatial axis, every input size from LO to HI the model accepts (the other axes
    held at its input's): exactly the sizes convcalc model --input accepts."""
    from ._model import read_model
    from ._render._sizes import render_sizes
    from ._sizes import accepted_sizes
    from ._solve import parse_range

    low, high = parse_range(range, "--range")
    spec = _load_model(file)
    spec.update({k: v for k, v in {"framework": framework, "layout": layout}.items() if v})
    model = read_model(spec)
    axes = accepted_sizes(model, low, high)
    title = file if model.name is None else f"{model.name} ({file})"
    width = output_width(sys.stdout) if format is OutputFormat.TABLE else None
    sys.stdout.write(render_sizes(title, axes, low, high, format, explain=explain, width=width))


class ZooGroup(TyperGroup):
    """``convcalc zoo WORD ...`` is ``convcalc zoo list WORD ...``: words that are not one of
    its commands filter the listing."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        index = 0
        while index < len(args):
            word = args[index]
            if word in ("--format", "-f"):
                index += 2
            elif word.startswith("-"):
                index += 1
            else:
                if word not in self.list_commands(ctx):
                    args = ["list", *args]
                break
        return list(super().parse_args(ctx, args))


zoo_app = typer.Typer(
    cls=ZooGroup,
    help="Built-in models: list them (words filter: convcalc zoo efficientnet), or show one's "
    "YAML.",
    no_args_is_help=False,
    invoke_without_command=True,
)
commands.add_typer(zoo_app, name="zoo")


ZooFormat = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="table, json, markdown or csv",
        case_sensitive=False,
        show_default="table",
    ),
]


@zoo_app.callback()
def zoo(ctx: typer.Context, format: ZooFormat = None) -> None:
    """List the built-in models by family, with input size, parameters and MACs (analyse one:
    convcalc model zoo:NAME)."""
    if ctx.invoked_subcommand is None:
        _list_zoo(format or OutputFormat.TABLE, [])


@zoo_app.command("list")
def zoo_list(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            help="Words a model's name, family or source must contain (efficientnet, keras)",
            show_default=False,
        ),
    ] = None,
    format: ZooFormat = None,
) -> None:
    """List the built-in models by family (the same as `convcalc zoo`)."""
    _list_zoo(format or OutputFormat.TABLE, words or [])


def _list_zoo(output_format: OutputFormat, words: list[str]) -> None:
    from ._input._zoo import zoo_index
    from ._render._zoo import matching, render_zoo

    entries = list(zoo_index().values())
    chosen = matching(entries, words) if words else entries
    if not chosen:
        from ._errors import did_you_mean
        from ._input._yaml import excerpt

        hint = did_you_mean(" ".join(words), [e.name for e in entries]) if len(words) == 1 else ""
        families = sorted({e.family for e in entries})
        raise SpecError(
            f"no zoo model matches {excerpt(' '.join(words))}{hint}; the families: "
            f"{', '.join(families)}"
        )
    sys.stdout.write(render_zoo(chosen, output_format, output_width(sys.stdout) or 80))


@zoo_app.command("show")
def zoo_show(
    name: Annotated[
        str | None,
        typer.Argument(
            help="A zoo model's name (without one: the names)",
            show_default=False,
            autocompletion=lambda incomplete: _complete_zoo(incomplete),
        ),
    ] = None,
) -> None:
    """Print a built-in model's YAML, to copy and change."""
    from ._input._zoo import PREFIX, zoo_names, zoo_text

    if name is None:
        sys.stdout.write(
            "convcalc zoo show NAME prints one model's YAML; the models:\n"
            + "".join(f"  {entry}\n" for entry in zoo_names())
        )
        return
    sys.stdout.write(zoo_text(name.removeprefix(PREFIX)))


# -- completion (each reads the catalogue or the zoo; nothing heavy is imported) ------------


def _complete_types(incomplete: str) -> list[str]:
    from ._completion import layer_types

    return layer_types(incomplete)


def _complete_chain(incomplete: str) -> list[str]:
    from ._completion import chain_item

    return chain_item(incomplete)


def _complete_model(incomplete: str) -> list[str]:
    from ._completion import model_source

    return model_source(incomplete)


def _complete_value(kind: str, param: str, incomplete: str) -> list[str]:
    from ._completion import param_values

    return param_values(kind, param, incomplete)


def _complete_zoo(incomplete: str) -> list[str]:
    from ._completion import zoo_models

    return zoo_models(incomplete)


@functools.cache
def _lazy_commands() -> dict[str, Callable[[], Any]]:
    """Each command's name -> how typer builds it (its own functions, as for any app)."""
    return dict(command_builders(app, commands))


def main() -> None:
    """The ``convcalc`` console script: the environment made safe, then the app, then the
    output flushed while a failure to write it can still be reported."""
    # A run builds many small records and frees them together at exit: the cyclic garbage
    # collector only rescans them (2.3x the time at 100,000 rows, superlinear beyond).
    gc.disable()
    _safe_environment()
    # Help wraps to the terminal however narrow (click's own floor is 50 columns).
    app.info.context_settings = {**(app.info.context_settings or {}), "terminal_width": _columns()}
    narrow_help()
    try:
        app(prog_name="convcalc")
    except SystemExit as done:
        _flush()
        raise done from None
    except OSError:  # standard error itself cannot be written: the exit code says it
        raise SystemExit(USAGE_EXIT) from None
    _flush()


SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
"""The shells typer's completion knows."""


def _safe_environment() -> None:
    """Streams that cannot fail on a character, and COLUMNS, LINES and the completion
    variables checked before typer or rich read them."""
    if sys.stdout is None:
        if sys.stderr is not None:
            sys.stderr.write("Error: standard output is closed, so nothing can be written\n")
        raise SystemExit(USAGE_EXIT)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")  # PYTHONIOENCODING=ascii: never a crash
    for name in ("COLUMNS", "LINES"):  # click and typer read them too: give them a number
        if name in os.environ:
            size = parse_columns(os.environ[name])
            if size is None:
                del os.environ[name]  # not a size: as if unset
            else:
                os.environ[name] = str(size)
    instruction = os.environ.get("_CONVCALC_COMPLETE")
    if instruction is not None:
        how, _, shell = instruction.partition("_")
        if how not in ("complete", "source") or shell not in SHELLS:
            _fail(
                f"_CONVCALC_COMPLETE {instruction[:40]!r} is not a completion request (such as "
                "complete_bash); shell completion sets it: reinstall it with convcalc "
                "--install-completion"
            )
        if how == "complete" and shell == "bash":
            cword = os.environ.get("COMP_CWORD", "").strip()
            if "COMP_WORDS" not in os.environ or not cword.isdigit() or len(cword) > 6:
                _fail(
                    f"COMP_WORDS and COMP_CWORD (now {cword[:20]!r}) must both be set, "
                    "COMP_CWORD to a word number; bash completion sets them: reinstall it "
                    "with convcalc --install-completion"
                )


def _columns() -> int:
    """The width help and messages wrap to: COLUMNS, else the terminal's, else 80."""
    return output_width(sys.stdout) or 80


def _flush() -> None:
    """Flush standard output now: a full disk or a closed descriptor is reported as an error,
    a reader that went away (``| head -1``) ends the run quietly."""
    import errno

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        raise SystemExit(0) from None
    except OSError as problem:
        _quiet_stdout()
        if problem.errno == errno.EPIPE:
            raise SystemExit(0) from None
        _fail(f"cannot write the output: {problem.strerror or problem}")


def _quiet_stdout() -> None:
    """Point standard output at nothing, so Python's exit does not try the write again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
