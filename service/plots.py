"""Pictures for the evaluation page (matplotlib, headless)."""
from __future__ import annotations

import io
from functools import cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager

from planalign.index.evaluation import NO_SUGGESTION

# Thai fonts Debian ships (fonts-thai-tlwg, fonts-noto): the first one installed draws the axis
# titles in Thai; without any, matplotlib's default font would draw Thai as empty boxes.
THAI_FONTS = ("Garuda", "Loma", "Norasi", "Sawasdee", "Noto Sans Thai", "Tlwg Typo")


@cache
def _thai_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in THAI_FONTS if name in installed), None)


def confusion_png(labels: list[str], matrix: list[list[int]]) -> bytes:
    """The confusion matrix of a labelled job: rows are the file's labels, columns the suggestions. The column of rows
    given no suggestion (``NO_SUGGESTION``) has no row: no label in a file is "no suggestion" (a blind review)."""
    size = max(4.0, 0.45 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    rows = labels[:-1] if labels and labels[-1] == NO_SUGGESTION else labels
    axes.imshow(matrix[: len(rows)], cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90)
    axes.set_yticks(range(len(rows)), rows)
    thai = _thai_font()
    if thai:
        axes.set_xlabel("ข้อเสนอของระบบ (predicted)", fontfamily=thai)
        axes.set_ylabel("ป้ายในไฟล์ (true)", fontfamily=thai)
    else:
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
    for i, row in enumerate(matrix[: len(rows)]):
        for j, value in enumerate(row):
            if value:
                axes.text(j, i, str(value), ha="center", va="center", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()
