"""The Excel writer (openpyxl) for /导出: handlers/export_rows.py says what goes in, this says how it looks."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from handlers.export_rows import Chart, Sheet


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
    for i, h in enumerate(sheet.headers, 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(h) * 2 + 4)
        for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
            for c in cell:
                if isinstance(c.value, datetime):
                    c.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(c.value, date):
                    c.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    if sheet.percent_col:
        for row in ws.iter_rows(min_row=2, min_col=sheet.percent_col, max_col=sheet.percent_col):
            row[0].number_format = "0%"
    if sheet.chart:
        _chart(ws, sheet.chart)
    return ws


def _chart(ws, spec: Chart) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title = spec.title
    for lo, hi in spec.series:
        chart.add_data(Reference(ws, min_col=lo, max_col=hi, min_row=1, max_row=spec.rows + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=spec.rows + 1))
    chart.width, chart.height = 24, 12
    ws.add_chart(chart, f"A{spec.rows + 4}")
