"""The handler table: one function per command type (a command without a handler fails at import)."""
from __future__ import annotations

from handlers import (
    admin,
    benefit_cmds,
    customer_cmds,
    deal_cmds,
    handover_cmds,
    identity,
    named_cmds,
    queue_cmds,
    report_cmds,
    roster_cmds,
    visits,
)
from handlers import commands as c

HANDLERS = {
    c.SignIn: queue_cmds.sign_in,
    c.SignOut: queue_cmds.sign_out,
    c.Leave: queue_cmds.leave,
    c.StepOut: queue_cmds.step_out,
    c.GoOut: queue_cmds.go_out,
    c.Back: queue_cmds.back,
    c.Receive: named_cmds.receive,
    c.Visit: visits.visit,
    c.NonBuyer: queue_cmds.non_buyer,
    c.HelpReceive: visits.help_receive,
    c.NameHelper: visits.name_helper,
    c.TakeOver: handover_cmds.take_over,
    c.Decline: named_cmds.decline,
    c.Withdraw: benefit_cmds.withdraw,
    c.SeeOff: queue_cmds.see_off,
    c.FollowUp: customer_cmds.follow_up,
    c.RecordDeal: deal_cmds.record_deal,
    c.Appeal: deal_cmds.appeal,
    c.Lookup: customer_cmds.lookup,
    c.MyCustomers: customer_cmds.my_customers,
    c.Board: admin.board,
    c.HelpText: admin.show_help,
    c.OpenDay: queue_cmds.open_day,
    c.SetOrder: queue_cmds.set_order,
    c.GiveMakeup: queue_cmds.give_makeup,
    c.Skip: queue_cmds.skip,
    c.Assign: queue_cmds.assign,
    c.Approve: queue_cmds.approve,
    c.Verify: customer_cmds.verify,
    c.Decide: customer_cmds.decide,
    c.Release: customer_cmds.release,
    c.Undo: admin.undo,
    c.ShowLog: admin.show_log,
    c.DailySummary: admin.daily_summary,
    c.Export: admin.export,
    c.Roster: roster_cmds.roster,
    c.Transfer: roster_cmds.transfer,
    c.CorrectName: roster_cmds.correct_name,
    c.CorrectPhone: roster_cmds.correct_phone,
    c.BoardLink: report_cmds.board_link,
    c.ReportLink: report_cmds.report_link,
    c.PeriodReport: report_cmds.period_report,
    c.Confirm: identity.confirm,
    c.WhoAmI: identity.on_console_whoami,      # other platforms: bot/identity.py, before any handler
    c.Bind: identity.on_console_bind,
}

# Commands answered without touching the state (no audit row, no 下一位 line).
READ_ONLY = {c.Board, c.HelpText, c.Lookup, c.MyCustomers, c.ShowLog, c.DailySummary, c.Export}
READ_ONLY |= {c.BoardLink, c.ReportLink, c.PeriodReport}     # a new link's token is no change to undo
READ_ONLY |= {c.WhoAmI, c.Bind}                # on the console: nothing to link

# Replies that are catalogue text with no customer data: not masked, so the help's example phones
# can be typed exactly as shown (a usage line is not masked either).
STATIC = {c.HelpText}
