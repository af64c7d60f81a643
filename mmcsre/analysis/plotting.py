"""Figures of the analysis tools (matplotlib, written to PNG files)."""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import mmengine
import numpy as np

from .optional import pyplot

DPI = 110
# A name's words: text up to and including its separators.
_WORD = re.compile(r'[^-_. /]+[-_. /]*|[-_. /]+')


def _wrap(name: str, width: int) -> str:
    """``name`` on lines of at most ``width`` characters, broken after its
    separators (``-``, ``_``, ``.``, space, ``/``) where it can be."""
    lines = ['']
    for word in _WORD.findall(name):
        while len(word) > width:  # a word longer than a line is split
            if lines[-1]:
                lines.append('')
            lines[-1], word = word[:width], word[width:]
            lines.append('')
        if lines[-1] and len(lines[-1]) + len(word.rstrip()) > width:
            lines.append('')
        lines[-1] += word
    return '\n'.join(line.strip() for line in lines if line.strip())


def compact_labels(names: Sequence[str],
                   width: int = 20,
                   strip_shared: bool = True) -> Tuple[List[str], str]:
    """Axis labels for long names such as config file names.

    The words every name starts and ends with are dropped (when the names
    differ and each keeps a word), and each label is wrapped to lines of at
    most ``width`` characters.

    Args:
        names (Sequence[str]): The names.
        width (int): Longest label line. Defaults to 20.
        strip_shared (bool): Drop the shared words. Defaults to True.

    Returns:
        tuple[list[str], str]: The labels, and the dropped part as
        ``'PREFIX*SUFFIX'`` ('' if nothing was dropped), for an axis title.
    """
    words = [_WORD.findall(n) for n in names]
    head = tail = 0
    if strip_shared and len(set(names)) > 1:
        shortest = min(len(w) for w in words)
        while head < shortest - 1 and len({w[head] for w in words}) == 1:
            head += 1
        while (tail < shortest - 1 - head
               and len({w[len(w) - 1 - tail]
                        for w in words}) == 1):
            tail += 1
    kept = [''.join(w[head:len(w) - tail]).strip('-_. /') for w in words]
    if not all(kept):
        kept, head, tail = list(names), 0, 0
    shared = ''
    if head or tail:
        first = words[0]
        # The separator before the suffix: a glob that matches the names.
        glue = first[len(first) - tail - 1][-1] if tail else ''
        glue = glue if glue in '-_. /' else ''
        shared = (''.join(first[:head]) + '*' + glue +
                  ''.join(first[len(first) - tail:]))
    return [_wrap(k, width) for k in kept], shared


def _save(fig, path: str) -> str:
    """Write ``fig`` to ``path`` and close it; returns ``path``."""
    mmengine.mkdir_or_exist(osp.dirname(osp.abspath(path)))
    fig.savefig(path, dpi=DPI, bbox_inches='tight')
    pyplot().close(fig)
    return path


def plot_accuracy_changes(names: Sequence[str], change: np.ndarray,
                          run_names: Tuple[str,
                                           str], title: str, path: str) -> str:
    """Horizontal bars of per-class accuracy changes (points), gains in green
    and losses in red (csre.txt Fig. 5).

    Args:
        names (Sequence[str]): Names of the plotted classes, top to bottom.
        change (np.ndarray): (n,) change of each, in points.
        run_names (tuple[str, str]): (reference, compared) run names.
        title (str): Figure title.
        path (str): Output PNG.
    """
    plt = pyplot()
    n = len(names)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * max(n, 1)))
    ypos = np.arange(n)
    colors = np.where(change >= 0, '#2e7d32', '#c62828')
    ax.barh(ypos, change, color=colors)
    for y, value in zip(ypos, change):
        ax.annotate(
            f'{value:+.1f}', (value, y),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords='offset points',
            ha='left' if value >= 0 else 'right',
            va='center',
            fontsize=8)
    ax.set_yticks(ypos, labels=list(names))
    ax.invert_yaxis()
    ax.axvline(0, color='black', linewidth=0.8)
    span = float(np.abs(change).max()) if n else 1.0
    ax.set_xlim(-1.25 * span - 1, 1.25 * span + 1)
    ax.set_xlabel(f'top-1 accuracy change (points): {run_names[1]} minus '
                  f'{run_names[0]}')
    ax.set_title(title)
    handles = [
        plt.Rectangle((0, 0), 1, 1, color='#2e7d32'),
        plt.Rectangle((0, 0), 1, 1, color='#c62828')
    ]
    ax.legend(
        handles, [f'{run_names[1]} better', f'{run_names[0]} better'],
        loc='lower right',
        fontsize=8)
    if n == 0:
        ax.text(
            0.5,
            0.5,
            'no class changes by more than the threshold',
            transform=ax.transAxes,
            ha='center')
    return _save(fig, path)


def plot_grouped_bars(categories: Sequence[str],
                      series: Dict[str, Sequence[float]],
                      ylabel: str,
                      title: str,
                      path: str,
                      value_format: str = '{:.1f}',
                      xlabel: str = '',
                      axes: Optional[List[Dict]] = None) -> str:
    """Grouped bars: one group per category, one bar per series.

    Args:
        categories (Sequence[str]): Group labels on the x axis.
        series (dict[str, Sequence[float]]): Legend name -> one value per
            category.
        ylabel (str): Y axis label.
        title (str): Figure title.
        path (str): Output PNG.
        value_format (str): Format of the value printed on each bar.
        xlabel (str): X axis label. Defaults to none.
        axes (list[dict], optional): Several panels side by side instead,
            each a dict with the keys ``categories``, ``series``,
            ``ylabel``, ``title`` (and optional ``value_format``,
            ``xlabel``, ``tick_rotation``: degrees to turn the category
            labels by, default 0).
    """
    plt = pyplot()
    panels = axes or [
        dict(
            categories=categories,
            series=series,
            ylabel=ylabel,
            title=title,
            value_format=value_format,
            xlabel=xlabel)
    ]
    fig, axs = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, panel in zip(axs[0], panels):
        cats, bars_by_name = list(panel['categories']), panel['series']
        fmt = panel.get('value_format', value_format)
        width = 0.8 / max(len(bars_by_name), 1)
        x = np.arange(len(cats))
        for i, (name, values) in enumerate(bars_by_name.items()):
            values = np.asarray(values, dtype=np.float64)
            bars = ax.bar(
                x + (i - (len(bars_by_name) - 1) / 2) * width,
                np.nan_to_num(values),
                width,
                label=name)
            ax.bar_label(
                bars,
                labels=[fmt.format(v) if v == v else 'n/a' for v in values],
                fontsize=8,
                padding=2)
        rotation = panel.get('tick_rotation', 0)
        ax.set_xticks(
            x,
            labels=cats,
            rotation=rotation,
            ha='right' if rotation else 'center',
            rotation_mode='anchor' if rotation else 'default')
        ax.set_ylabel(panel['ylabel'])
        ax.set_xlabel(panel.get('xlabel', ''))
        ax.set_title(panel['title'])
        ax.margins(y=0.15)
    if axes and title:
        fig.suptitle(title)
    fig.tight_layout()
    # One legend under the panels, clear of the bars and their values.
    handles, names = axs[0][0].get_legend_handles_labels()
    if any(names):
        fig.legend(
            handles,
            names,
            loc='upper center',
            ncol=min(len(names), 4),
            fontsize=9,
            bbox_to_anchor=(0.5, 0.0))
    return _save(fig, path)


def plot_confusion(matrices: Sequence[np.ndarray], names: Sequence[str],
                   titles: Sequence[str], path: str) -> str:
    """Row-normalised confusion matrices side by side (cp-stn.txt Fig. 4).

    Args:
        matrices (Sequence[np.ndarray]): (K, K) rates per run, rows = true
            class.
        names (Sequence[str]): K class names.
        titles (Sequence[str]): Panel titles.
        path (str): Output PNG.
    """
    plt = pyplot()
    num = len(names)
    side = min(max(4.5, 0.38 * num + 2.5), 16)
    fig, axs = plt.subplots(
        1,
        len(matrices),
        figsize=(side * len(matrices) + 1, side),
        squeeze=False)
    # Every tick with a name up to 40 classes, else every 5th index.
    ticks = np.arange(num) if num <= 40 else np.arange(0, num, 5)
    labels = [names[i]
              for i in ticks] if num <= 40 else [str(i) for i in ticks]
    image = None
    for k, (ax, cm, title) in enumerate(zip(axs[0], matrices, titles)):
        image = ax.imshow(100 * cm, cmap='Blues', vmin=0, vmax=100)
        ax.set_xticks(
            ticks, labels=labels, rotation=60, ha='right', fontsize=8)
        # Class names on the left of the first panel only.
        ax.set_yticks(ticks, labels=labels if k == 0 else [], fontsize=8)
        ax.set_xlabel('predicted class')
        if k == 0:
            ax.set_ylabel('true class')
        ax.set_title(title)
        if num <= 15:
            for (i, j), rate in np.ndenumerate(cm):
                if rate >= 0.005:
                    ax.text(
                        j,
                        i,
                        f'{100 * rate:.0f}',
                        ha='center',
                        va='center',
                        fontsize=7,
                        color='white' if rate > 0.5 else 'black')
    cbar = fig.colorbar(image, ax=axs[0].tolist(), shrink=0.8)
    cbar.set_label("share of the true class's samples (%)")
    return _save(fig, path)


def plot_embeddings(panels: Sequence[Tuple[np.ndarray, np.ndarray, str]],
                    names: Sequence[str], path: str) -> str:
    """2-D embeddings side by side, one colour per class (csre.txt Fig. 6).

    Args:
        panels (Sequence[tuple]): ``(xy (N, 2), labels (N,), title)`` per
            run.
        names (Sequence[str]): Class names, indexed by label.
        path (str): Output PNG.
    """
    plt = pyplot()
    shown = np.unique(np.concatenate([p[1] for p in panels]))
    cmap = plt.get_cmap('tab10' if len(shown) <= 10 else 'tab20')
    fig, axs = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 5.2), squeeze=False)
    for ax, (xy, labels, title) in zip(axs[0], panels):
        for i, cls in enumerate(shown):
            pick = labels == cls
            ax.scatter(
                xy[pick, 0],
                xy[pick, 1],
                s=9,
                color=cmap(i % cmap.N),
                marker='os^D'[(i // cmap.N) % 4],
                label=names[cls])
        ax.set_title(title)
        ax.set_xlabel('t-SNE 1')
        ax.set_ylabel('t-SNE 2')
        ax.set_xticks([])
        ax.set_yticks([])
    handles, labels = axs[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc='lower center',
        ncol=min(len(labels), 5),
        fontsize=8,
        markerscale=2,
        bbox_to_anchor=(0.5, -0.02 - 0.035 * (len(labels) // 5)))
    fig.tight_layout()
    return _save(fig, path)


def plot_paired_differences(result, path: str) -> str:
    """Per-seed top-1 differences of a paired comparison with the mean and its
    confidence intervals (``tools/analysis/compare_runs.py``).

    Args:
        result (PairedComparison): Output of
            :func:`mmcsre.analysis.paired.compare_arms`.
        path (str): Output PNG.
    """
    plt = pyplot()
    base, method = result.names
    diffs = np.asarray(result.diffs)
    n = len(diffs)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.55 * n), 4.0))
    x = np.arange(n)
    colors = np.where(diffs >= 0, '#2e7d32', '#c62828')
    ax.bar(x, diffs, color=colors, width=0.6)
    t, boot = result.t_test, result.bootstrap
    level = f'{100 * result.level:g}%'
    ax.axhspan(
        t['lo'],
        t['hi'],
        color='#1565c0',
        alpha=0.15,
        label=f'paired t {level} CI [{t["lo"]:+.2f}, {t["hi"]:+.2f}]')
    for bound in (boot['lo'], boot['hi']):
        ax.axhline(bound, color='#1565c0', linestyle=':', linewidth=1)
    ax.plot([], [],
            color='#1565c0',
            linestyle=':',
            label=f'bootstrap {level} CI [{boot["lo"]:+.2f}, '
            f'{boot["hi"]:+.2f}]')
    ax.axhline(
        t['mean'],
        color='#1565c0',
        linewidth=1.5,
        label=f'mean {t["mean"]:+.2f}')
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_xticks(x, labels=[f'seed {s}' for s in result.seeds])
    ax.set_ylabel(f'top-1 difference (points): {method} minus {base}')
    ax.set_title(f'{method} vs {base}, {n} paired seeds')
    ax.legend(fontsize=8, loc='best')
    fig.tight_layout()
    return _save(fig, path)
