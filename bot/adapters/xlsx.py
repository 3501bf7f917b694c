"""The Excel writer (openpyxl) for /导出: handlers/export_rows.py says what goes in, this says how it looks.

Columns as wide as their longest value (a Chinese character counts two), so no date-time prints as
###; phones are text (never a number cut or shown as 1.38E+10); each sheet prints landscape, fitted
to the page width, its header row repeated; the auto-filter leaves a total row out; the chart's
colours are the PNG's and the web page's (handlers.charts.COLORS).
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from handlers.export_rows import Chart, Sheet

FORMATS = {datetime: ("yyyy-mm-dd hh:mm", 16), date: ("yyyy-mm-dd", 10)}     # format, its printed width
PHONE_WORD = "手机"
MAX_WIDTH = 60


def write_workbook(path: Path, sheets: list[Sheet]) -> None:
    """One workbook, a sheet each (the first one in the workbook's own first sheet); the folder is made."""
    wb = Workbook()
    for i, sheet in enumerate(sheets):
        _sheet(wb, sheet, first=i == 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _sheet(wb: Workbook, sheet: Sheet, first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = sheet.title
    ws.append(sheet.headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in sheet.rows:
        ws.append(r)
    for i, header in enumerate(sheet.headers, 1):
        _column(ws, i, header)
    if sheet.total_row and sheet.rows:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    last = ws.max_row - (1 if sheet.total_row and sheet.rows else 0)
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(sheet.headers)))}{max(1, last)}"
    if sheet.percent_col:
        for row in ws.iter_rows(min_row=2, min_col=sheet.percent_col, max_col=sheet.percent_col):
            row[0].number_format = "0%"
    _page(ws)
    if sheet.chart:
        _chart(ws, sheet.chart)
    return ws


def _column(ws, i: int, header: str) -> None:
    """Formats and width of column `i`: dates and times as such, phones as text, wide enough for all."""
    widest = _width(header)
    for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
        kind = type(c.value)
        if kind in FORMATS:
            c.number_format, w = FORMATS[kind]
        elif PHONE_WORD in header and c.value is not None:
            c.value, c.number_format, c.data_type = str(c.value), "@", "s"
            w = _width(c.value)
        else:
            w = _width("" if c.value is None else str(c.value))
        widest = max(widest, w)
    ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, widest + 3)   # +3: the filter button


def _width(text: str) -> int:
    """Printed width in Excel's units (a wide character, like 汉字, counts two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _page(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0      # one page wide, as many long as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _chart(ws, spec: Chart) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title = spec.title
    for lo, hi in spec.series:
        chart.add_data(Reference(ws, min_col=lo, max_col=hi, min_row=1, max_row=spec.rows + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=spec.rows + 1))
    for s, color in zip(chart.series, spec.colors, strict=False):
        s.graphicalProperties.solidFill = color.lstrip("#")
        s.graphicalProperties.line.solidFill = color.lstrip("#")
    chart.width, chart.height = 24, 12
    anchor = spec.rows + 4                  # below the table and its total, on a page of its own
    ws.row_breaks.append(_break(anchor - 1))
    ws.add_chart(chart, f"A{anchor}")


def _break(row: int):
    from openpyxl.worksheet.pagebreak import Break
    return Break(id=row)
