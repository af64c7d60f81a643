"""Write analysis results as markdown and CSV tables."""
import csv
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import mmengine


def _cell(value) -> str:
    """A markdown cell: NaN as ``n/a``, ``|`` escaped."""
    if isinstance(value, float):
        return f'{value:g}' if value == value else 'n/a'  # NaN
    return str(value).replace('|', '\\|')


def markdown_table(rows: Sequence[Dict]) -> str:
    """Rows (dicts with the same keys) as a markdown table."""
    if not rows:
        return '(no rows)'
    keys = list(rows[0])
    lines = [
        '| ' + ' | '.join(keys) + ' |',
        '| ' + ' | '.join('---' for _ in keys) + ' |'
    ]
    for row in rows:
        lines.append('| ' + ' | '.join(_cell(row[k]) for k in keys) + ' |')
    return '\n'.join(lines)


def write_tables(rows: Sequence[Dict],
                 out_dir: str,
                 name: str,
                 title: str = '',
                 notes: Optional[Sequence[str]] = None) -> Tuple[str, str]:
    """Write ``OUT_DIR/NAME.md`` (title, table, notes) and
    ``OUT_DIR/NAME.csv``.

    Args:
        rows (Sequence[dict]): Table rows with the same keys.
        out_dir (str): Output folder (created).
        name (str): File name without extension.
        title (str): Markdown heading line. Defaults to none.
        notes (Sequence[str], optional): Lines written under the table.

    Returns:
        tuple[str, str]: Paths of the markdown and CSV files.
    """
    mmengine.mkdir_or_exist(out_dir)
    md_path = osp.join(out_dir, f'{name}.md')
    csv_path = osp.join(out_dir, f'{name}.csv')
    parts: List[str] = [f'# {title}', ''] if title else []
    parts.append(markdown_table(rows))
    if notes:
        parts += [''] + list(notes)
    with open(md_path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(parts) + '\n')
    with open(csv_path, 'w', newline='', encoding='utf-8') as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            # Missing values (NaN) as empty cells.
            writer.writerows({
                k: '' if isinstance(v, float) and v != v else v
                for k, v in row.items()
            } for row in rows)
    return md_path, csv_path
