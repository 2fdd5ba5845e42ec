#!/usr/bin/env python3
"""Draw a Grafana dashboard's time-series panels to a PNG, from a live Prometheus.

    python3 scripts/render-dashboard.py --prometheus http://127.0.0.1:9090 \\
        --dashboard deploy/grafana/cascade.json --start UNIX --end UNIX \\
        --out docs/dashboard.png [--title TEXT] [--points 200]

No Grafana needed: each panel's PromQL targets run as range queries (/api/v1/query_range, with a
step giving about --points points, never below the 5 s scrape interval), with the dashboard's
variables replaced (`$member` and any other query variable by `.*`, `$__rate_interval` by 1m, or
two steps on long ranges), and are drawn with matplotlib where the dashboard's gridPos puts them,
with the panel's title, legendFormat and units (a series moved to a right-hand axis by an
override gets its own axis and unit). Times are shown in UTC. A panel whose query fails shows
the error, and the exit code is then 1 (the PNG is written all the same).

Needs matplotlib (PyPI: python3 -m pip install matplotlib).
"""
import argparse
import datetime
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

GRID_COLUMNS = 24
COLUMN_INCHES = 0.75   # one of the 24 columns
ROW_INCHES = 0.36      # one gridPos height unit (30 px in Grafana)
HEADER_INCHES = 0.55
# Inside each panel's cell: room for the title, the y tick labels, the x tick labels, the legend.
PAD_TOP, PAD_LEFT, PAD_RIGHT, PAD_BOTTOM = 0.34, 0.80, 0.15, 0.30
LEGEND_LINE_INCHES = 0.17
# Grafana's classic palette.
COLOURS = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9",
           "#705DA0", "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C"]

def fail(message, code=1):
    print(f"render-dashboard: {message}", file=sys.stderr)
    sys.exit(code)


def import_matplotlib():
    try:
        import matplotlib
    except ImportError:
        fail("matplotlib is missing; it comes from PyPI: python3 -m pip install matplotlib "
             "(add --break-system-packages where pip refuses)", code=2)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.dates as mdates
    import matplotlib.ticker as mticker
    return plt, mdates, mticker


# ---- the dashboard --------------------------------------------------------------------------

def dashboard_panels(dashboard):
    """Every panel with targets, rows' nested panels included, in reading order."""
    found = []

    def walk(panels):
        for panel in panels or []:
            if panel.get("type") == "row":
                walk(panel.get("panels"))
            elif panel.get("targets"):
                found.append(panel)
    walk(dashboard.get("panels"))
    found.sort(key=lambda p: (p.get("gridPos", {}).get("y", 0), p.get("gridPos", {}).get("x", 0)))
    return found


def variable_names(dashboard):
    return [v.get("name") for v in (dashboard.get("templating") or {}).get("list", [])
            if v.get("name") and v.get("type") != "datasource"]


def substitute(expr, names, rate_interval, step, span):
    """The expression Grafana would send: variables as `.*`, built-in intervals as durations."""
    builtins = {"__rate_interval": rate_interval, "__interval": f"{step:g}s", "__range": f"{span:g}s"}
    for name, value in builtins.items():
        expr = expr.replace("${" + name + "}", value)
        expr = re.sub(r"\$" + name + r"\b", value, expr)
    for name in sorted(names, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", ".*").replace("[[" + name + "]]", ".*")
        expr = re.sub(r"\$" + re.escape(name) + r"\b", ".*", expr)
    return expr


def legend_name(legend_format, labels):
    if not legend_format or legend_format == "__auto":
        name = labels.get("__name__", "")
        rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
        return f"{name}{{{rest}}}" if rest or not name else name
    return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", lambda m: labels.get(m.group(1), ""), legend_format)


def natural_key(text):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


# ---- Prometheus -----------------------------------------------------------------------------

def query_range(base, expr, start, end, step):
    params = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
    url = base.rstrip("/") + "/api/v1/query_range?" + params
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        # Prometheus answers a bad query with 400 and a JSON error.
        try:
            body = json.load(error)
        except ValueError:
            return None, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        fail(f"cannot reach Prometheus at {base}: {getattr(error, 'reason', error)}")
    if body.get("status") != "success":
        return None, body.get("error", "query failed")
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        return None, f"expected a matrix, got {data.get('resultType')}"
    return data.get("result") or [], None


def series_points(values, step):
    """Times and values, with a gap (NaN) where samples are missing, as Grafana draws it."""
    times, ys = [], []
    previous = None
    for t, v in values:
        t = float(t)
        if previous is not None and t - previous > 1.5 * step:
            times.append(previous + step)
            ys.append(float("nan"))
        times.append(t)
        ys.append(float(v))  # "NaN", "+Inf" and "-Inf" parse as such
        previous = t
    return times, ys


# ---- units ----------------------------------------------------------------------------------

def si(value, suffix=""):
    magnitude = abs(value)
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= factor:
            return f"{value / factor:.3g}{prefix}{suffix}"
    if magnitude and magnitude < 0.01:
        return f"{value:.2g}{suffix}"
    return f"{value:.3g}{suffix}"


def duration(value):
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    for factor, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if magnitude >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def iec_bytes(value):
    magnitude = abs(value)
    for factor, unit in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if magnitude >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value:.3g} B"


UNITS = {
    # unit: (tick formatter, axis label)
    "s": (duration, "duration"),
    "ms": (lambda v: duration(v / 1000), "duration"),
    "bytes": (iec_bytes, "bytes"),
    "decbytes": (lambda v: si(v, "B"), "bytes"),
    "percentunit": (lambda v: f"{v * 100:.3g}%", "percent"),
    "percent": (lambda v: f"{v:.3g}%", "percent"),
    "ops": (lambda v: si(v, "/s"), "per second"),
    "reqps": (lambda v: si(v, "/s"), "per second"),
    "short": (si, ""),
    "none": (lambda v: f"{v:g}", ""),
}


def unit_of(unit):
    return UNITS.get(unit or "short", UNITS["short"])


def scale_name(unit, scale):
    if unit in ("s", "ms"):
        seconds = scale / 1000 if unit == "ms" else scale
        names = {86400: "d", 3600: "h", 60: "min", 1: "s", 1e-3: "ms", 1e-6: "µs", 1e-9: "ns"}
        return next((n for f, n in names.items() if math.isclose(seconds, f)), None)
    if unit == "bytes":
        return {1: "B", 1 << 10: "KiB", 1 << 20: "MiB", 1 << 30: "GiB", 1 << 40: "TiB"}.get(scale)
    return None


def tick_scale(unit, top):
    """The factor ticks should be round numbers of: 60 for minutes, 1024**2 for MiB, ..."""
    top = abs(top)
    if unit in ("s", "ms"):
        seconds = top / 1000 if unit == "ms" else top
        factor = next((f for f in (86400, 3600, 60, 1, 1e-3, 1e-6) if seconds >= f * 2), 1e-9)
        return factor * 1000 if unit == "ms" else factor
    if unit == "bytes":
        return next((f for f in (1 << 40, 1 << 30, 1 << 20, 1 << 10) if top >= f), 1)
    return 1


# ---- drawing --------------------------------------------------------------------------------

def overrides_by_name(panel):
    """{series name: {"unit": …, "axis": "right"|…}} from byName overrides."""
    result = {}
    for override in (panel.get("fieldConfig") or {}).get("overrides", []):
        matcher = override.get("matcher") or {}
        if matcher.get("id") not in ("byName", "byDisplayName"):
            continue
        props = result.setdefault(matcher.get("options"), {})
        for prop in override.get("properties", []):
            if prop.get("id") == "unit":
                props["unit"] = prop.get("value")
            elif prop.get("id") == "custom.axisPlacement":
                props["axis"] = prop.get("value")
            elif prop.get("id") == "custom.axisLabel":
                props["label"] = prop.get("value")
    return result


def draw_panel(fig, rect, panel, series, errors, start, end, mdates, mticker):
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    custom = defaults.get("custom") or {}
    overrides = overrides_by_name(panel)
    left_unit = defaults.get("unit")
    ax = fig.add_axes(rect)
    ax.set_title(panel.get("title", ""), loc="left", fontsize=10, fontweight="bold", pad=6)
    ax.set_facecolor("#fbfbfb")
    ax.grid(True, color="#e3e3e3", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#bbbbbb")
    ax.tick_params(labelsize=7, colors="#444444")
    ax.set_xlim(datetime.datetime.fromtimestamp(start, datetime.timezone.utc),
                datetime.datetime.fromtimestamp(end, datetime.timezone.utc))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6, tz=datetime.timezone.utc)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S" if end - start <= 1800 else "%H:%M",
                                                      tz=datetime.timezone.utc))

    right = None
    handles, labels = [], []
    lows, highs = {"left": [], "right": []}, {"left": [], "right": []}
    for index, (name, times, values) in enumerate(series):
        props = overrides.get(name, {})
        side = "right" if props.get("axis") == "right" else "left"
        if side == "right" and right is None:
            right = ax.twinx()
            right.tick_params(labelsize=7, colors="#444444")
            for spine in ("top", "left"):
                right.spines[spine].set_visible(False)
            right.spines["right"].set_color("#bbbbbb")
        target = right if side == "right" else ax
        when = [datetime.datetime.fromtimestamp(t, datetime.timezone.utc) for t in times]
        colour = COLOURS[index % len(COLOURS)]
        line, = target.plot(when, values, color=colour, linewidth=1.3)
        if custom.get("fillOpacity"):
            target.fill_between(when, values, 0, color=colour, alpha=min(custom["fillOpacity"], 100) / 250, linewidth=0)
        handles.append(line)
        labels.append(name if side == "left" else f"{name} (right)")
        finite = [v for v in values if not math.isnan(v) and not math.isinf(v)]
        if finite:
            lows[side].append(min(finite))
            highs[side].append(max(finite))

    def finish_axis(axis, side, unit, label):
        formatter, default_label = unit_of(unit)
        axis.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: formatter(v)))
        label = label or default_label
        if label:
            axis.set_ylabel(label, fontsize=7, color="#666666")
        low = min(lows[side]) if lows[side] else 0.0
        high = max(highs[side]) if highs[side] else 1.0
        bottom = defaults.get("min", 0.0 if custom.get("axisSoftMin") == 0 and low >= 0 else None)
        top = defaults.get("max") if side == "left" else None
        if bottom is not None and top is None and high <= bottom:
            top = bottom + 1
        axis.set_ylim(bottom=bottom, top=top)
        # Ticks at round numbers of the unit shown (10 min, 20 MiB), not of seconds or bytes.
        low_limit, high_limit = axis.get_ylim()
        scale = tick_scale(unit, max(abs(low_limit), abs(high_limit)))
        ticks = mticker.MaxNLocator(nbins=5).tick_values(low_limit / scale, high_limit / scale) * scale
        axis.yaxis.set_major_locator(mticker.FixedLocator([t for t in ticks if low_limit - 1e-12 <= t <= high_limit + 1e-12]))
        name = scale_name(unit, scale)
        if name:  # every tick in the one unit the ticks are round in
            axis.yaxis.set_major_formatter(mticker.FuncFormatter(
                lambda v, _: "0" if v == 0 else f"{v / scale:.3g} {name}"))

    left_label = next((p.get("label") for n, p in overrides.items() if p.get("axis") != "right" and p.get("label")), None)
    finish_axis(ax, "left", left_unit, left_label)
    if right is not None:
        props = next(p for p in overrides.values() if p.get("axis") == "right")
        finish_axis(right, "right", props.get("unit", left_unit), props.get("label"))

    message = None
    if errors:
        message = "query failed: " + "; ".join(errors)
    elif not series:
        message = "No data"
    if message:
        ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#c0392b" if errors else "#888888", wrap=True)
    if handles:
        columns = legend_columns(labels, rect[2] * fig.get_figwidth())
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0, -PAD_BOTTOM / (rect[3] * fig.get_figheight())),
                  ncol=columns, fontsize=7, frameon=False, handlelength=1.2, columnspacing=1.0,
                  borderaxespad=0, handletextpad=0.4)


def legend_columns(labels, width_inches):
    longest = max(len(label) for label in labels)
    entry_inches = 0.45 + longest * 0.055
    return max(1, min(len(labels), int(width_inches // entry_inches)))


def legend_lines(labels, width_inches):
    if not labels:
        return 0
    return math.ceil(len(labels) / legend_columns(labels, width_inches))


def main():
    parser = argparse.ArgumentParser(description="Draw a Grafana dashboard's panels to a PNG from a live Prometheus.")
    parser.add_argument("--prometheus", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--dashboard", required=True, help="the dashboard JSON (e.g. deploy/grafana/cascade.json)")
    parser.add_argument("--start", required=True, type=float, help="start, Unix seconds")
    parser.add_argument("--end", required=True, type=float, help="end, Unix seconds")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--title", help="the figure's heading (default: the dashboard's title)")
    parser.add_argument("--points", type=int, default=200, help="points per series (sets the step; default 200)")
    parser.add_argument("--min-step", type=float, default=5,
                        help="shortest step, seconds: the scrape interval (default 5, as Grafana's data source says)")
    parser.add_argument("--rate-interval", default="auto",
                        help="what $__rate_interval stands for (default: 1m, or two steps when that is longer)")
    args = parser.parse_args()
    if args.end <= args.start:
        fail("--end must be after --start", code=2)

    plt, mdates, mticker = import_matplotlib()
    try:
        with open(args.dashboard) as f:
            dashboard = json.load(f)
    except (OSError, ValueError) as error:
        fail(f"{args.dashboard}: {error}", code=2)
    panels = dashboard_panels(dashboard)
    if not panels:
        fail(f"{args.dashboard}: no panels with queries", code=2)
    names = variable_names(dashboard)
    step = max(args.min_step, 1.0, math.ceil((args.end - args.start) / max(1, args.points)))
    if args.rate_interval == "auto":
        # Like Grafana's: never shorter than the step, so no sample falls between two windows.
        args.rate_interval = "1m" if 2 * step <= 60 else f"{2 * step:g}s"

    # Query everything first: the legend sizes decide each panel's plot area.
    fetched = []
    total_series = 0
    for panel in panels:
        series, errors = [], []
        for target in panel.get("targets", []):
            if target.get("hide") or not target.get("expr"):
                continue
            expr = substitute(target["expr"], names, args.rate_interval, step, args.end - args.start)
            result, error = query_range(args.prometheus, expr, args.start, args.end, step)
            if error:
                errors.append(f"{target.get('refId', '?')}: {error}")
                print(f"render-dashboard: panel {panel.get('title')!r}: {expr}: {error}", file=sys.stderr)
                continue
            found = []
            for item in result:
                times, values = series_points(item.get("values", []), step)
                found.append((legend_name(target.get("legendFormat"), item.get("metric", {})), times, values))
            found.sort(key=lambda s: natural_key(s[0]))
            series.extend(found)
        total_series += len(series)
        fetched.append((panel, series, errors))

    rows = max(p.get("gridPos", {}).get("y", 0) + p.get("gridPos", {}).get("h", 8) for p in panels)
    width = GRID_COLUMNS * COLUMN_INCHES
    height = HEADER_INCHES + rows * ROW_INCHES
    fig = plt.figure(figsize=(width, height), dpi=100, facecolor="white")
    heading = args.title or dashboard.get("title", "dashboard")
    span = (f"{datetime.datetime.fromtimestamp(args.start, datetime.timezone.utc):%Y-%m-%d %H:%M:%S} to "
            f"{datetime.datetime.fromtimestamp(args.end, datetime.timezone.utc):%H:%M:%S} UTC, step {step:g} s")
    fig.text(0.008, 1 - 0.22 / height, heading, fontsize=14, fontweight="bold", va="center")
    fig.text(0.992, 1 - 0.22 / height, span, fontsize=9, color="#555555", va="center", ha="right")

    for panel, series, errors in fetched:
        grid = panel.get("gridPos", {})
        x, y = grid.get("x", 0), grid.get("y", 0)
        w, h = grid.get("w", 12), grid.get("h", 8)
        cell_left, cell_top = x * COLUMN_INCHES, HEADER_INCHES + y * ROW_INCHES
        cell_width, cell_height = w * COLUMN_INCHES, h * ROW_INCHES
        has_right = any(p.get("axis") == "right" for p in overrides_by_name(panel).values())
        labels = [name for name, _, _ in series]
        legend_height = legend_lines(labels, cell_width - PAD_LEFT - PAD_RIGHT) * LEGEND_LINE_INCHES
        left = cell_left + PAD_LEFT
        right_pad = PAD_RIGHT + (0.55 if has_right else 0)
        bottom = cell_top + cell_height - PAD_BOTTOM - legend_height - 0.08
        top = cell_top + PAD_TOP
        rect = [left / width, 1 - bottom / height, (cell_width - PAD_LEFT - right_pad) / width,
                max(0.3, bottom - top) / height]
        draw_panel(fig, rect, panel, series, errors, args.start, args.end, mdates, mticker)

    fig.savefig(args.out, dpi=100, facecolor="white")
    failed = sum(1 for _, _, errors in fetched if errors)
    print(f"render-dashboard: {len(panels)} panels, {total_series} series, step {step:g} s -> {args.out}"
          + (f"; {failed} panel(s) had failed queries" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
