"""The text catalogue: every user-facing Chinese sentence the bot says or logs, in one place.

Templates use str.format with named fields. Inside Chinese sentences the punctuation is
full-width (，：；（）？！。); the line `下一位:NAME` keeps its half-width colon because it is
a public interface (COMMANDS.md §Replies). This module lives in rules/ because the pure rules
write the change-log reasons too, and rules/ may import nothing outside itself; handlers/ and
bot/ read it from here.
"""
from __future__ import annotations

from rules.enums import Category, CustomerStatus, Presence, ReportPeriod

# ---- words -------------------------------------------------------------------------------
PRESENCE = {Presence.AVAILABLE: "在岗", Presence.BUSY: "接待中", Presence.AWAY_BUSINESS: "外出（公事）",
            Presence.AWAY_PERSONAL: "暂离", Presence.ABSENT: "未到"}
BOARD_PRESENCE = {Presence.AVAILABLE: "在岗", Presence.BUSY: "接待中", Presence.AWAY_BUSINESS: "外出",
                  Presence.AWAY_PERSONAL: "暂离", Presence.ABSENT: "未到"}     # the board's short words
SKIPPED_AS = {Presence.ABSENT: "未签到", Presence.AWAY_PERSONAL: "暂离"}
CATEGORY = {
    Category.NEW: "新客户", Category.NAMED: "点名客户", Category.OWN_RETURN_OPEN: "未成交老客户回访",
    Category.OWN_RETURN_CLOSED: "已成交客户回访", Category.BROUGHT_OPEN: "未成交老客户带新客户",
    Category.BROUGHT_CLOSED: "已成交老客户带新客户", Category.REPEAT_TODAY: "当天重复到访",
    Category.HANDOVER: "同事老客户", Category.HELPER: "代接", Category.OBLIGATION: "义务接待",
    Category.NON_BUYER: "非购房人员", Category.ERRAND: "找人/问路", Category.OFF_SHIFT: "早到/迟走",
}
STATUS = {CustomerStatus.ACTIVE: "跟踪中", CustomerStatus.LAPSED: "公客", CustomerStatus.CLOSED: "已成交",
          CustomerStatus.PENDING: "待核实"}
EMPTY = "（空）"
NONE = "无"
SYSTEM_ACTOR = "系统"
SCHEDULED_COMMAND = "（定时）"
NO_CHANGE = "（无变化）"


def share_words(shares: dict) -> str:
    """{'李四': 0.5, '王五': 0.5} → '李四 50%、王五 50%'."""
    return "、".join(f"{n} {round(v * 100)}%" for n, v in shares.items())


# The last line of every reply that changes the queue (COMMANDS.md §Replies).
NEXT = "下一位:{name}"
NEXT_NONE = "下一位:无（{why}）"
NOBODY_EMPTY = "今天的轮排里还没有人：请同事发 签到"
NOBODY_ALL_BUSY = "大家都在接待中：谁先送客谁接待下一位新客户；经理也可 /批准 接待中的同事再接一位"
NOBODY_NOT_HERE = "在队的同事都还没签到或不在岗：谁先签到或回来，谁接待下一位新客户"
NOBODY_AWAY = "在队的同事都不在岗或在接待中：谁先签到、回来或送客，谁接待下一位新客户"

# ---- config (shown to the operator: one line naming the key, exit code 2) --------------------
UNKNOWN_SETTINGS = "未知的策略设置：{names}"
UNKNOWN_PRESET = "未知的策略预设「{name}」，可选：{names}"
CONFIG_ERROR = "配置错误：{error}"
CFG_NOT_FOUND = "找不到配置文件 {path}"
CFG_IS_DIR = "{path} 是一个目录，不是配置文件（用 --config 指向 config.yaml）"
CFG_UNREADABLE = "读不了配置文件 {path}：{why}"
CFG_NOT_UTF8 = "{path} 不是 UTF-8 编码（第 {line} 行）：请用 UTF-8 保存"
CFG_BAD_YAML = "{path} {at}不是有效的 YAML：{why}"
CFG_YAML_AT = "第 {line} 行第 {column} 列"
CFG_AT = "{path}: {error}"
CFG_NOT_A_LIST = "应写成列表，例如 {key}: [{example}]"
CFG_LIST_EXAMPLE = '"甲", "乙"'
CFG_SHIFT_ORDER = "start（{start}）应早于 end（{end}）"
CFG_DUPLICATE_MEMBERS = "成员重名：{names}"
CFG_DUPLICATE_PROJECTS = "项目重名：{names}"
CFG_PRESET = "{where}.preset: 未知的预设 {name!r}（可选 {names}）"
CFG_QUIET_HOURS = '{where}.quiet_hours: 应写成 ["21:00", "08:30"]（开始、结束两个时间）'
CFG_UNKNOWN_SETTINGS = "{where} 中有未知的设置：{names}"
CFG_RANGE = "{key}: 应在 {low}–{high} 之间，现在是 {value}"
CFG_CHOICE = "{key}: 只能是 {allowed}，现在是 {value!r}"
CFG_TIMEZONE = "{key}: 未知的时区 {name!r}（例如 Asia/Shanghai）"
CFG_WHOLE_FILE = "整个文件"
CFG_MESSAGES = {                    # pydantic's error types, in words
    "missing": "缺少这一项",
    "extra_forbidden": "未知的设置（拼写错误？）",
    "int_type": "应是整数", "int_parsing": "应是整数", "int_from_float": "应是整数",
    "float_type": "应是数字", "float_parsing": "应是数字",
    "bool_type": "应是 true 或 false", "bool_parsing": "应是 true 或 false",
    "string_type": "应是文字",
    "list_type": '应是列表，例如 ["甲", "乙"]',
    "dict_type": "应是映射（key: value）", "model_type": "应是映射（key: value）",
    "dataclass_type": "应是映射（key: value）",
    "time_type": '应是时间，例如 "09:00"', "time_parsing": '应是时间，例如 "09:00"',
}
# config that cannot lie (issue 22 item 4): what YAML would silently misread is refused
CFG_KEY = "{key}: {why}"
CFG_TIME_UNQUOTED = '写成了 {text}（没有引号，YAML 会把它读成一个数）；请写成 "{fix}"'
CFG_TIME_ZONED = '时间 {value!r} 带了时区；请写成 "{fix}"，时区用 timezone 设置'
CFG_TIME_FORMAT = '应是带引号的 24 小时制时间 "HH:MM"，例如 "09:00"，现在是 {value}'
CFG_DUPLICATE_KEY = "{key} 重复出现（第 {first} 行已写过一次，YAML 会悄悄只留后一个）；请删去一个"
CFG_NO_MANAGERS = "每个项目至少要写一位经理，例如 managers: [张经理]（经理全在数据库里时写 managers: []）"
CFG_NO_PROJECTS = "至少要有一个项目"
CFG_NAME_NO_LETTER = "名字 {name!r} 里没有汉字或字母（空白、标点或数字不能当名字）"
CFG_NAME_BAD = "名字 {name!r} 不行：{why}"
CFG_NAME_TOO_LONG = "名字最多 {limit} 个字"
CFG_PLATFORM = "未知的平台 {name!r}（可选 {names}）"
CFG_ACCOUNT_TWICE = ("{key}: {platform}账号 {uid} 已是「{first}」的（{first_key}），不能再写给「{name}」："
                     "一个账号只对应一个人")
CFG_CHAT_TWICE = ("{key}: {platform}群 {chat} 已绑定项目「{first}」（{first_key}），不能再绑定「{second}」："
                  "一个群只属于一个项目")
FEISHU_WEBHOOK_SECRETS = ("飞书 webhook 模式必须同时设置环境变量 FEISHU_ENCRYPT_KEY 和 FEISHU_VERIFICATION_TOKEN"
                          "（缺少 {missing}）")
FEISHU_APP_SECRETS = "飞书：请在环境变量中设置 FEISHU_APP_ID 和 FEISHU_APP_SECRET"
FEISHU_MODE = "飞书：FEISHU_MODE（feishu.mode）只能是 ws 或 webhook，不是 {mode!r}"
FEISHU_NUMBER = "飞书：{key} 应是 {low}–{high} 之间的数，不是 {value!r}"
WECOM_SECRETS = ("企业微信：请同时设置 WECOM_BOT_ID 和 WECOM_BOT_SECRET"
                 "（环境变量，或 config.yaml 的 wecom.bot_id 和 wecom.secret）")
WECOM_NUMBER = "企业微信：wecom.{key} 应是 {low}–{high} 之间的数，不是 {value!r}"
WECOM_URL = "企业微信：wecom.url 应以 wss:// 或 ws:// 开头，不是 {value!r}"
WECOM_UNKNOWN = "企业微信：wecom 下没有 {names} 这些设置（可用：{known}）"

# ---- database faults (shown to the operator: one line, exit code 2) --------------------------
DATABASE_ERROR = "数据库错误：{problem}"
DB_BAD_URL = "数据库地址无法识别：{url}（例如 sqlite:///data/reception.db 或 postgresql://user:password@host/dbname）"
DB_NOT_A_URL = "（不是 URL）"
DB_UNSUPPORTED = ("数据库地址无法识别或不支持：{url}（只支持 SQLite 和 PostgreSQL，"
                  "例如 sqlite:///data/reception.db 或 postgresql://user:password@host/dbname）")
DB_NO_DRIVER = "数据库驱动 {module} 没有安装（{url}）：PostgreSQL 请写 postgresql://…，SQLite 请写 sqlite:///…"
DB_DOWN = "连不上数据库或数据库出错（{url}）：{why}"
DB_SQLITE_FAULT = "{what}（{url}）"
DB_SQLITE_CORRUPT = "SQLite 文件已损坏或不是数据库：请从备份恢复，或换一个文件"
DB_SQLITE_READ_ONLY = "SQLite 数据库只读：请检查数据库文件和所在目录的写权限"
DB_SQLITE_CANNOT_OPEN = "打不开 SQLite 数据库文件：请检查路径和权限"
DB_SQLITE_LOCKED = "SQLite 数据库被其他进程占用，等待超时"
DB_SQLITE_DISK = "SQLite 数据库读写失败：请检查磁盘"
DB_NO_DIRECTORY = "无法创建 SQLite 数据库所在的目录 {path}：{why}"
DB_PATH_IS_DIR = "SQLite 数据库路径 {path} 是一个目录，请写文件路径"
DB_SCHEMA_TOO_NEW = ("数据库已被更新版本的接待助手升级（版本 {revision}，本程序只认到 {head}）："
                     "请升级程序，或换回与程序匹配的数据库（{url}）")
DB_FOREIGN_KEYS_BROKEN = ("升级数据库后外键检查不通过（{table} 表有 {rows} 行引用的 {parent} 记录不存在），"
                          "升级已撤回：请从备份恢复（{url}）")

# ---- the console, transcripts and the web server (operator-facing) -----------------------------
CONSOLE_HEAD = "接待助手 · 本地控制台（项目：{project}，数据库：{db}）"
CONSOLE_HOW = "输入「姓名：命令」，例如「李四：签到」「李四：到访 张三 13812345678」；私聊：「李四（私聊）：我的客户」。"
CONSOLE_WHO = "名单：{names}；经理：{managers}。输入 帮助 看命令，exit 退出。"
CONSOLE_OFF_SHIFT = "注意：现在是班次（{start}–{end}）之外，接待按「早到/迟走」不计名次。"
CONSOLE_FORMAT = "请用「姓名：命令」的格式，例如「李四：签到」。"
CLI_BAD_LINE = "{file}:{n}: 无法识别的行：{line}"
CLI_LINES_OUT_OF_ORDER = "{file}: 行的时间必须按顺序（{later} 在 {earlier} 之后）"
WEB_SERVING = "看板与报表：http://{host}:{port}（经理私聊发 /看板、/报表，获取带密钥的链接）"
WEB_REPORT_BAD_DATE = "日期格式应为 YYYY-MM-DD，例如 ?from=2026-11-01&to=2026-11-30。"
WEB_REPORT_OUT_OF_RANGE = "报表的日期应在 {earliest} 至 {latest} 之间。"
WEB_REPORT_FROM_AFTER_TO = "开始日期 {start} 晚于结束日期 {end}。"
WEB_REPORT_TOO_LONG = "日期范围最多 {days} 天。"
WEB_REPORT_THIS_MONTH = "查看本月报表"
WEB_REPORT_SWIPE = "← 表格和图表可左右滑动查看 →"

# ---- errors ------------------------------------------------------------------------------
APOLOGY = "抱歉，处理这条消息时出错了，请稍后再试；如一直出错请联系经理。"
FILE_FAILED = "导出文件发送失败，请稍后再试或联系管理员。"
UNDELIVERED = "一条消息重试 {n} 次仍未发出（{where}）：{text}"
UNDELIVERED_GROUP = "群里"
UNDELIVERED_PRIVATE = "发给{to}的私聊"
IMAGE_FAILED = "图表图片发送失败（文字已发出），请稍后再试或联系管理员。"
USAGE = "用法：{usage}"
UNKNOWN_COMMAND = "没有「/{word}」这个命令。{hint}发送 帮助 查看全部命令。"
UNKNOWN_HINT = "您是不是要 /{word}？"
PRIVATE_HINT = "发送 帮助 查看可用命令。"
WECOM_BUSY = "你还有 {n} 条消息在处理中，请等它们回复后再发。这条没有执行。"
TOO_LONG = "消息太长（超过 {limit} 字），没有处理；请只发命令本身。"
NEAR_MISS = "您是不是要「{word}」？格式：{form}"
MEMBER_NAME_EMPTY = "名字不能为空"                # /成员 添加: why a roster name is refused
MEMBER_NAME_LONG = "名字最多 {limit} 个字"
MEMBER_NAME_DIGITS = "名字不能是数字或带 @"
MANAGER_ONLY = "「/{word}」只有经理可以使用。{sender} 如有需要请联系经理。"

# ---- identity and binding (RULES §9: who may speak for whom) ------------------------------
UNBOUND_CHAT = ("本群还没有绑定项目：请经理先私聊我「我是 姓名 验证码」（验证码由 reception-bot link 姓名 生成），"
                "再在群里发 /绑定 项目名。")
UNKNOWN_SENDER = "我还不认识你：请发「我是 姓名」（名单上的名字），经理确认后生效。"
BIND_IN_GROUP = "/绑定 要在项目的群里发送。"
NO_SUCH_PROJECT = "没有叫「{name}」的项目，现有：{names}。"
BIND_MANAGERS_ONLY = "只有「{project}」的经理可以绑定群（经理先私聊我「我是 姓名 验证码」）。"
BOUND = "本群已绑定到项目「{project}」。"
WHOAMI_NOT_ON_ROSTER = "名单里没有「{name}」，请经理先 /成员 添加 {name}。"
WHOAMI_ALREADY = "你已经绑定为「{name}」了，无需再发。"
WHOAMI_CONFIG = "「{name}」的账号已在 config.yaml 里指定；如有误，请经理修改配置。"
WHOAMI_NEEDS_CODE = ("「{name}」是经理，经理的账号要用一次性验证码绑定：请在服务器上运行 reception-bot link {name}，"
                     "再私聊我发「我是 {name} 验证码」。")
WHOAMI_CODE_IN_GROUP = "验证码只能私聊发给我；这个验证码已作废，请重新运行 reception-bot link {name}。"
WHOAMI_CODE_WRONG = "验证码不对或已过期（{minutes} 分钟内有效，只能用一次）。请重新运行 reception-bot link {name}。"
WHOAMI_CODE_OK = "好的，{name}，已用验证码绑定你的账号（项目「{project}」）。"
WHOAMI_WAITS = "已收到，请等经理确认（经理发 /确认 {name}）后生效。"
CLAIM_NOTICE = "{who}{platform}账号说自己是「{name}」{linked}{rival}。确认是本人请发 /确认 {name}；不是请忽略。"
CLAIM_WHO_NAMED = "「{display}」的"
CLAIM_WHO_UNNAMED = "一个"
CLAIM_LINKED = "（注意：这个名字现在绑定的是另一个账号）"
CLAIM_REPLACED = "（它替换了另一个账号的申请）"
CLAIM_RIVAL = "又有{who}账号说自己是「{name}」；先申请的{first}账号仍在等待。请先核实：/确认 {name} 确认的是先申请的账号。"
WHOAMI_CLAIM_PENDING = "「{name}」已有人申请绑定，正在等经理处理；如果那不是你，请直接找经理。"
WHOAMI_CODE_SLOW_DOWN = "验证码错太多次了，请 {minutes} 分钟后再试。"
PLATFORMS = {"feishu": "飞书", "wechat": "微信", "wecom": "企业微信"}
CONFIRM_NOT_ON_ROSTER = "名单里没有「{name}」。"
CONFIRM_NOTHING = "没有等待确认的「我是 {name}」。请让本人先发「我是 {name}」。"
CONFIRM_MANAGER = "「{name}」是经理，只能用一次性验证码绑定（reception-bot link {name}）。"
CONFIRM_NOTE = "{manager} 确认了 {name} 的{platforms}账号"
CONFIRM_TOLD = "经理已确认：你的账号已绑定为「{name}」。"
CONFIRMED = "已确认：「{name}」的{platforms}账号已绑定。"
CONSOLE_KNOWN = "这里已按发送人「{name}」识别，无需「我是」。"
CONSOLE_NO_BIND = "这里的消息直接属于项目「{project}」，无需 /绑定。"
LINK_CODE = "验证码：{code}（{minutes} 分钟内有效，只能用一次）\n请 {name} 私聊机器人发送：我是 {name} {code}"
LINK_NO_MEMBER = "项目「{project}」的名单里没有「{name}」。"

# ---- the day and the queue ---------------------------------------------------------------
NOT_OPEN = "今天还没开班（班次 {start} 开始）。经理可发 /开班。"
NOT_OPEN_BOARD = "今天还没开班（班次 {start}–{end}）。"
NOT_IN_QUEUE = "{name} 不在今天的轮排里。请先发 签到。"
ALREADY_OPEN = "今天已经开过班了。要重排今天的队伍，请用 /开班 甲 乙 丙 或 /顺序。"
OPENED = "开班了。{board}"
BOARD_LINE = "轮排：{order}"
MORNING = "早上好！{date} 开班。{board}\n未签到的同事请发 签到。"
IS_MANAGER_NOT_SALES = "{name} 是经理，不在接待排序表里（需要参加轮排请 /成员 添加 {name}）。"
NOT_ON_ROSTER = "名单里没有「{name}」。可用 /成员 添加 {name} 加入名单。"

SIGNED_IN_EARLY_TWICE = "{me} 今天已经签到过了。"
SIGNED_IN_EARLY = "{me} 已签到，{start} 开班时在岗。"
SIGNED_IN_EARLY_NOTE = "{me} 开班前签到"
LEFT_EARLY_NOTE = "{me} 开班前{word}"
SIGN_OUT_WORD = "签退"
LEAVE_WORD = "请假"
ALREADY_HERE = "{me} 已经在岗了。"
SIGNED_IN = "{me} 签到成功。"
SIGNED_IN_TAIL = "{me} 签到成功，排在队尾。"
BUSY_FIRST_SEE_OFF = "{me} 还有接待中的客户，请先 送客 再{word}。"
LEFT_EARLY = "{me} 已{word}，今天不排队。"
NOT_IN_TODAY = "{me} 今天不在轮排里。"
LEFT = "{me} 已{word}，今天不再排队。"
BUSY_SEE_OFF_FIRST = "{me} 正在接待中，请先 送客。"
NOT_SIGNED_IN = "{me} 还没签到，请先 签到。"
AWAY = "{me} {word}{reason}。"
AWAY_PERSONAL_WORD = "暂离，轮到时跳过"
AWAY_BUSINESS_WORD = "因公外出，保留位置"
REASON = "（{reason}）"
BUSY_BACK = "{me} 正在接待中，送客后自动在岗。"
BACK = "{me} 回来了。"
BACK_NOTE = "回来，在岗"

BUSY_NO_NEW = "{name} 正在接待中，送客前不能再接新客户（经理可 /批准 {name}）。"
NOW_PLEASE = "现在请 {name} 接待。"
NOW_NOBODY = "现在没有在岗的同事可以接待。"
CANNOT_RECEIVE = "{name} 当前{presence}，不能接待。请先发 回来 或 签到。"
NOT_YOUR_TURN = "现在轮到 {next} 接待，{name} 请稍候（非当值人员不得上前）。"
NOBODY_TURN = "现在没有在岗的同事轮到接待，{name} 请稍候；经理可 /指派。"
OFF_SHIFT_NOTE = "{name} 班次外接待，不计名次"
APPROVED_EXTRA_NOTE = "{name} 经经理批准，接待中再接一位新客户"
RECEIVED = "{me} 接待新客户。客户留资后请发：到访 姓名 手机。"

NO_OPEN_RECEPTION = "{me} 现在没有接待中的客户{key}。"
SEEN_OFF_NOTE = "{me} 送客"
SEEN_OFF = "{me} 送客，已在岗。"
SEEN_OFF_OFF_QUEUE = "{me} 送客。"
SEEN_OFF_ONE = "{me} 送走 {who}，还有 {n} 位客户在接待中。"
SEE_OFF_WHICH = "{me} 有 {n} 位客户在接待中，请写明送哪一位（没有送走任何人）：\n{items}"
SEE_OFF_ITEM = "· {who} —— 送客 {key}"
UNREGISTERED_VISITOR = "未登记的来客"
UNREGISTERED_KEY = "未登记"
SINCE = "，{at} 起"
PRIVATE_DONE = "已办理，并已在项目群里公布：{first}"       # a queue or register command sent privately
HELPER_NO_DEAL_COUNTED = "代接未成交：计 {owner} 一个名次"
GOT_MAKEUP = "{name} 获得一次补接"
MAKEUP_WHY_OBLIGATION = "义务接待/代接未成交"
LEFTOVER_CLOSED_NOTE = "{member} 前一天未送客的接待已自动结束"

NON_BUYER_ALREADY = "{me} 这次接待已经报过非客了。"
LAST_NOT_IN_POLICY = "本项目的接待制度没有「非客交给末位」这一条（仅 count_all 制度）。"
LAST_NO_NON_BUYER = "现在没有已报非客、还在接待中的客人，无需 /指派 末位。"
LAST_NOBODY = "队尾没有在岗的同事可以接手。"
LAST_NOTE = "经理把 {member} 报的非客（{kind}）交给末位 {last}，不计名次，{last} 保留位置"
LAST_TAKES = "{kind}由末位 {last} 接待（不计名次，保留位置）；{member} 可以接待下一位。"
NON_BUYER_KINDS_HINT = "非客 类型 应为：{kinds}。"
NO_RECEPTION_FOR_NON_BUYER = "{me} 现在没有接待中的客户，无需报非客。"
NON_BUYER_LATE_NOTE = "{me} 超时报非客（{kind}），待经理确认"
NON_BUYER_LATE = "已超过 {minutes} 分钟，{me} 报的非客（{kind}）需经理确认：/批准 {me}"
NON_BUYER_REGISTERED = ("{me} 这次接待已登记客户 {name}，不能再报非客（登记了就不是非购房人员）。"
                        "如果登记本身是误操作，请经理 /撤销。")
NON_BUYER_ASK = ("非客待确认：{me} {start}–{end} 的接待（未登记客户）送客后报非客（{kind}）。"
                 "确认退名次并补接请 /批准 {me}；不同意则无需处理。")
NON_BUYER_NOTE = "{me} 接待的是{kind}，不计名次"
REFUND_WHY_NON_BUYER = "非客：{kind}"
ERRAND_REFUNDED = "{kind}不算接待，{me} 的名次已退回，获得补接。"
ERRAND_UNCOUNTED = "{kind}不算接待，不计名次。"
NON_BUYER_REFUNDED = "{kind}不计名次，{me} 的名次已退回，获得补接；请继续接待到送客。"
NON_BUYER_UNCOUNTED = "{kind}不计名次；请继续接待到送客。"

ORDER_MUST_LIST_ALL = "/顺序 须列出今天在队的全部成员，各一次：{names}"
ORDER_SET = "顺序已调整。"
MAKEUP_BY_MANAGER = "经理安排"
MAKEUP_GIVEN = "{name} 获得补接。"
SKIPPED = "{name} 被跳过，排到队尾（不补接）。"
CANNOT_ASSIGN = "{name} 当前{presence}，不能指派。"
ASSIGNED_NOTE = "经理指派 {name} 接待下一位新客户"
ASSIGNED = "下一位新客户由 {name} 接待（经理指派）。"
NON_BUYER_CONFIRMED_NOTE = "经理确认 {name} 的非客（{kind}）"
NON_BUYER_CONFIRMED = "经理已确认。"
NOTHING_TO_APPROVE = "{name} 没有待确认的非客，也不在接待中，无需批准。"
APPROVED_NOTE = "经理批准 {name} 接待中再接一位新客户"
APPROVED = "已批准 {name} 再接待一位新客户。"

# ---- rules/queue.py: the change-log reasons ----------------------------------------------
Q_OPENED = "开班：轮排 {order}"
Q_OPENED_EARLY = "；已签到 {names}"
Q_OPENED_WITH = "经理开班：今日轮排 {names}，均视为在岗"
Q_SIGN_IN_TAIL = "{name} 签到，排到队尾"
Q_SIGN_IN_KEEP = "{name} 签到，保留原位"
Q_LEFT = "{name} {word}，今日不再排队"
Q_ASSIGNED_TAKES = "{name} 按经理指派接待"
Q_SKIPPED_PASSED = "{name} {why}，轮到时被跳过"
Q_COUNTED = "{name} 计接待名次（第{n}次）{used}，排到队尾"
Q_MAKEUP_USED = "，补接已用"
Q_REFUNDED = "{name} 退回一个接待名次"
Q_MAKEUP = "{name} 获得补接，排到第{pos}位{why}"
Q_SKIPPED = "{name} 被经理跳过{reason}，排到队尾，无补接"
Q_ORDER = "经理调整顺序：{names}"
Q_PRESENCE = "{name} {word}"
Q_REFUND_WITHDRAWN = "{name} 的退名次和补接收回（{why}），名次恢复，排到队尾"
Q_RECOUNTED = "{name} 的退名次收回（{why}），名次恢复"
Q_MAKEUP_WITHDRAWN = "{name} 未用的补接收回（{why}），排到队尾"

# ---- rules/visits.py and rules/customers.py -----------------------------------------------
V_REPEAT = "当天重复到访，不计名次"
V_OFF_SHIFT = "班次时间之外（早到或迟走），不计名次"
V_OWN = "自己的老客户"
V_HANDOVER = "是 {owner} 的客户，交由 {owner} 接待"
V_OBLIGATION = "是 {owner} 的客户，{owner} 不在场：请电话联系 {owner}；联系不到则继续义务接待"
V_BROUGHT_OTHER = "由 {owner} 的老客户带来，交由 {owner} 接待"
V_BROUGHT_OWN = "自己的老客户带来的新客户"
V_NAMED = "客户点名找本人"
V_NEW = "新客户"
C_BAD_NAME = "登记无效：姓名「{name}」{problem}，请填写客户的真实姓名（如 王建国）。"
NAME_LENGTH = "应为 2–20 个字"                 # RULES §5.1, the reasons a name is not a real name
NAME_DIGITS = "不能有数字"
NAME_PLACEHOLDER = "是代称，不是姓名"
NAME_ADDRESS = "是称呼，不是姓名"
NAME_CHARS = "只能是汉字、英文字母（可带空格）和 ·"
V_NAMED_OTHER = "客户点名找 {name}，交由 {name} 接待"
V_NAMED_ABSENT = "客户点名找的 {name} 不在，按轮排接待新客户"
NAMED_TO_NOTE = "{name} 点名找 {owner}，交由 {owner} 接待{counted}"
PLEASE_NAMED = "客户点名找 {owner}：{name} 请 {owner} 接待{counted}。"
NAMED_REFUND_WHY = "客户点名找 {owner}"
C_BAD_PHONE = "登记无效：「{raw}」不是有效的手机号（11 位，以 13–19 开头）。"

# ---- 到访 and 代接 ------------------------------------------------------------------------
YOU = "你"
BEING_RECEIVED = "{name}（{phone}）正在由{who}接待中。"
VISIT_HEAD = "{me} 报到访：{name}（{phone}），{category}。"
REFERRER_UNKNOWN = "带访的老客户 {phone} 不在登记表里，请核对手机号。"
PENDING_SAME_NAME = "同名客户已归 {rival}（不同电话）：本登记待经理核实（/核实 {phone} 同一人|不同人）。"
REGISTERED = "登记有效，归属 {owner}，有效期至 {until}。"
REGISTERED_NOTE = "登记 {name}（{phone}），归 {owner}"
PENDING_NOTE = "登记 {name}（{phone}），同名客户已归 {rival}，待经理核实"
RE_REGISTERED_LAPSED = "该客户原归 {prev}，已过期为公客；现重新登记归 {owner}，有效期至 {until}。"
RE_REGISTERED_PUBLIC = "该客户是公客；现登记归 {owner}，有效期至 {until}。"
RE_REGISTERED_NOTE = "公客 {name}（{phone}）重新登记，归 {owner}"
STILL_PENDING = "该客户登记待经理核实，暂无归属。"
OTHER_NAME = "姓名与登记不同（登记为 {registered}），同一电话仍归 {owner}；如非直系亲属请经理 /裁定。"
IS_CUSTOMER_OF = "{name} 是 {owner} 的客户"
HANDOVER_REFUNDED = "{me} 名次退回，获得补接。"
MAKEUP_KEPT = "签退前未用的补接"
TAKE_OVER_NOTHING = "{name}（{phone}）现在没有同事在接待，无需接手；客户来了请发：到访 {phone}"
TAKE_OVER_NOT_OWNER = "{name} 归 {owner}，正由{who}接待；只有归属人可以接手。"
TAKE_OVER_PUBLIC = "{name} 现在是公客，正由{who}接待；没有归属人，不能接手。"
TAKE_OVER_NOT_HERE = "{me} 请先发 回来 或 签到，再接手客户。"
TAKE_OVER_NOTE = "{me} 接手自己的客户 {name}（原由{who}接待）"
TOOK_OVER = "{me} 接手自己的客户 {name}（{phone}）{counted}，{who} 的接待结束，不分半。"
MAKEUP_WHY_TAKEN_OVER = "归属人接手了客户"
ALREADY_RECEIVED_WHY = "{name} 已在{who}接待中"
ALREADY_RECEIVED_NOTE = "{me} 的接待结束：客人 {name} 已在{who}接待中，不计名次"
RECEPTION_ENDED = "{me} 的这次接待已结束，不计名次。"
OBLIGATION_TERMS = "{why}；当天成交与 {owner} 分半，未成交送客后 {me} 获得补接。"
UNCOUNTED_REFUNDED = "{category}不计名次，{me} 名次退回，获得补接。"
RECEIVES_UNCOUNTED_NOTE = "{me} 接待{category}，不计名次"
HANDED_TO_NOTE = "{name} 交由 {owner} 接待{counted}"
COUNTED_TAG = "（计名次）"
UNCOUNTED_TAG = "（不计名次）"
PLEASE_OWNER = "{name} 是 {owner} 的客户，请 {owner} 接待{counted}。"
OWNER_BUSY = "\n{owner} 正在接待中：可同时接待，或让同事发 代接 {phone}{helper}。"
DEFAULT_HELPER = "（未指定则由 {helper} 代接）"
HELP_UNKNOWN = "登记表里没有 {phone}，代接只用于同事的老客户；新客户请按轮排 接待。"
HELP_NO_OWNER = "{name} 目前没有归属人，不需要代接。"
HELP_OWN = "{name} 目前是你自己的客户，不需要代接。"
HELP_OWNER_HERE = "{owner} 在岗，请交由 {owner} 本人接待。"
HELP_ALREADY = "你已经在接待 {name}。"
HELP_HANDED_OVER = "{member} 交出接待，获得补接。"
MAKEUP_WHY_HANDED = "义务接待交出"
HELP_NOTE = "{me} 代 {owner}（{where}）接待 {name}，不计名次"
HELPING = "{me} 代 {owner} 接待 {name}（{phone}），不计名次；当天成交与 {owner} 分半。"
ABSENT_WORD = "不在"

# ---- the register ------------------------------------------------------------------------
NO_SUCH_PHONE = "登记表里没有手机号 {phone} 的客户。"
MASKED_SEVERAL = "打码号码 {phone} 对应 {n} 位客户：{who}。请发完整手机号，未作更改。"
NO_SUCH_NAME = "登记表里没有叫「{name}」的客户。"
SEVERAL_NAMED = "叫「{name}」的客户有 {n} 位，请改用手机号。"
LOOKUP_MATCHES = "找到 {n} 位：\n"
NOT_IN_REGISTER = "登记表里没有「{key}」。"
FOLLOW_UP_NONE_NAMED = "你名下没有叫「{name}」的客户，请用：跟进 手机 内容。"
FOLLOW_UP_SEVERAL = "你名下有多位叫「{name}」的客户，请用：跟进 手机 内容。"
FOLLOW_UP_NOT_OWNER = "{name} 不归你（归属 {owner}），只有归属人可以记录跟进。"
FOLLOW_UP_PUBLIC = "{name} 不归你（已是公客，请先重新登记），只有归属人可以记录跟进。"
FOLLOW_UP_LAPSED_PUBLIC = ("{who} 原归你，已超过跟踪期，{deadline} 24:00 起成为公客，跟进未记录。"
                           "客户再来时接待并 到访 登记，即重新归你。")
FOLLOW_UP_LAPSED_TAKEN = ("{who} 原归你，{deadline} 24:00 起成为公客，{at} 已由 {owner} 重新登记，现归 {owner}，"
                          "跟进未记录。有异议请发：申诉 {phone} 理由（{appeal_until} 前）。")
FOLLOW_UP_NOTE = "{me} 跟进 {name}：{content}"
FOLLOWED_UP = "已记录 {me} 对 {name}（{phone}）的跟进{until}。"
FOLLOWED_UP_UNTIL = "，归属有效期至 {until} 24:00"
DESCRIBE = "{name}（{phone}）：{status}"
DESCRIBE_OWNER = "，归属 {owner}"
DESCRIBE_PHONES = "，另有手机 {phones}"
DESCRIBE_UNTIL = "，有效期至 {until} 24:00"
MY_NONE = "你名下目前没有客户。"
MY_HEAD = "你名下的客户（{n} 位）："
NOT_PENDING = "{name}（{phone}）不是待核实的登记。"
NO_TWIN = "找不到同名的有效客户，请改用 /核实 手机 不同人。"
TWIN_NOTE_FIELD = "经理核实：与 {phone} 为同一人"
VERIFIED_SAME_NOTE = "经理核实 {name} 为同一人，归 {owner}"
VERIFIED_SAME = "已核实为同一人：{name} 仍归 {owner}，{phone} 并入同一客户（一个有效期、一套提醒）。"
PHONE_MERGED_NOTE = "{phone} 并入客户 {name}（同一人，一条客户记录）"
VERIFIED_OBLIGATION = "{owner} 不在场：{me} 继续义务接待；当天成交与 {owner} 分半，未成交送客后按轮排补接。"
VERIFIED_OTHER_NOTE = "经理核实 {name} 为不同人，登记有效，归 {owner}"
VERIFIED_OTHER = "已核实为不同人：{name}（{phone}）登记有效，归属 {owner}。"
DECIDED_DEAL_NOTE = "经理裁定 {name} 的成交业绩：{shares}"
DECIDED_DEAL = "裁定：{name} 的成交业绩 {shares}。"
DECIDE_ONE_OWNER = "未成交的客户只能归一人：/裁定 手机 归 甲。"
DECIDED_NOTE = "经理裁定 {name} 归 {owner}"
DECIDED = "裁定：{name}（{phone}）归 {owner}，有效期至 {until}。"
CLOSED_NO_RELEASE = "{name} 已成交，不能释放。"
RELEASED_NOTE = "经理释放 {name}（原归 {prev}）为公客"
RELEASED = "{name}（{phone}）已释放为公客，下一个有效登记者获得归属。"

# ---- deals and appeals -------------------------------------------------------------------
DEAL_RECEIVE_FIRST = ("{me} 今天没有接待过这位客人，不能直接报成交登记 {name}。"
                      "新客户请先在接待时 到访 登记（轮到你时 接待）；是同事的客户请由归属人报成交，有异议请 申诉。")
DEAL_NOT_DIRECT = ("{relation}不是直系亲属（父母、子女、配偶），成交不能挂到 {name}（{phone}，归 {owner}）名下，"
                   "也不会登记为你的新客户。有异议请 申诉 {phone} 理由。")
DEAL_HOUSEHOLD = "购房人 {buyer} 已登记为客户 {name} 的家属，业绩归 {owner}；只有 {owner} 或经理可以报成交。有异议请 申诉。"
HOUSEHOLD_WORD = "家属"
OTHER_RELATION_WORDS = """兄弟 姐妹 哥哥 姐姐 弟弟 妹妹 亲戚 朋友 同事 同学 邻居 闺蜜 老乡 亲家 表哥 表姐 表弟 表妹
    堂哥 堂姐 堂弟 堂妹 叔叔 阿姨 舅舅 舅妈 姑姑 姑父 姨妈 姨父 伯伯 伯父 婶婶 侄子 侄女 外甥 外甥女 孙子 孙女
    外孙 外孙女 爷爷 奶奶 外公 外婆 姥姥 姥爷 岳父 岳母 公公 婆婆 女婿 儿媳 嫂子 弟媳 姐夫 妹夫"""
DEAL_PENDING = "{name} 的登记待经理核实（/核实），核实后再报成交。"
DEAL_SAME_NAME = "同名客户已归 {rival}（不同电话），请经理先 /核实。"
DEAL_REGISTERED = "已登记 {name} 归 {me}。"
DEAL_BUYER_LINKED = "购房人 {buyer}{relation} 与登记人 {registered} 同一电话，业绩归 {owner}。"
DEAL_ASK_DECIDE = "如非直系亲属请经理 /裁定。"
DEAL_OWNER_GONE = "{name} 归属 {owner}，{owner} 已不在名单里：请经理先 /转移 {owner} 乙，再报成交。"
DEAL_LINK_UNKNOWN = "登记表里没有「{key}」：亲属关系后面请写登记客户的姓名或手机。"
DEAL_LINK_SEVERAL = "叫「{key}」的客户不止一位，请在亲属关系后面写登记客户的手机。"
DEAL_LINK_NO_OWNER = "登记客户 {name} 目前没有归属人（公客），请先重新登记。"
DEAL_LINK_CONFLICT = "{buyer} 的手机已是 {other} 的客户，与 {owner} 的客户关联需经理 /裁定。"
RELATIVE = "{relation}：{buyer}（{phone}）"
RELATIVE_NOTE = "{buyer}（{relation}）记为 {name} 的亲属"
DEAL_RELATIVE = "购房人 {buyer} 是登记客户 {name} 的{relation}，业绩归 {owner}（不另登记为新客户）。"
DEAL_CORRECTED_NOTE = "{me} 更正 {name} 今天的成交：{before}套 → {units}套"
DEAL_CORRECTED = "{name}（{phone}）今天已有成交，已更正：{before}套 → {units}套，业绩 {shares}。"
DEAL_ALREADY = "{name}（{phone}）今天的成交已登记：{units}套，业绩 {shares}，未作更改。"
DEAL_NOTE = "{me} 报成交：{name} {units}套，业绩 {shares}"
BIG_ORDER = "大单提醒：{me} 成交 {name}（{phone}）{units}套，业绩 {shares}。"
BIG_ORDER_UNDONE = "大单撤销：{actor} 撤销了 {name}（{phone}）{units}套的成交登记，此前的大单提醒作废。"
DEAL_RECORDED = "成交登记：{name}（{phone}）{units}套，业绩 {shares}。"
APPEAL_OWN = "{name} 现在归你，无需申诉。"
APPEAL_PUBLIC = "{name} 现在是公客，无人归属，无需申诉：客户再来时接待并 到访 登记即可。"
OWNERSHIP_APPEAL_CLOSED = "{name} 于 {day} 登记归 {owner}，归属申诉期已于 {deadline} 结束，不再受理申诉。"
OWNERSHIP_APPEAL_NOTE = "{by} 对 {name} 的归属（{owner}）提出申诉"
OWNERSHIP_APPEAL_LAPSE = "；申诉人原为归属人，{until} 24:00 到期"
OWNERSHIP_APPEAL_TO_MANAGER = ("归属申诉：{by} 对 {name}（{phone}）的归属提出申诉：现归 {owner}（{day} 登记{before}）。"
                               "理由：{reason}\n申诉期至 {deadline}；裁定请发：/裁定 {phone} 归 甲")
OWNERSHIP_APPEALED = "对 {name} 归属（现归 {owner}）的申诉已提交给经理（申诉期至 {deadline}）。"
APPEAL_CLOSED = "{name} 于 {day} 成交，申诉期已于 {deadline} 结束，归属已确定，不再受理申诉。"
APPEAL_TO_MANAGER = ("申诉：{by} 对 {name}（{phone}）{day} 的成交（业绩 {shares}）提出申诉：{reason}\n"
                     "裁定请发：/裁定 {phone} 归 甲 [乙]（申诉期至 {deadline}）")
APPEALED = "申诉已提交给经理（申诉期至 {deadline}）。"
APPEAL_ALREADY = "你对 {name} 的申诉已提交过，经理已收到，不再重复通知（申诉期至 {deadline}）。"

# ---- the board, the log, undo, roster, summary, export ----------------------------------
BOARD_HEAD = "今日轮排（{date}）："
BOARD_TIMES = "{n}次"
BOARD_MAKEUP = "补接"
BOARD_ON_DUTY = "← 当值"
BOARD_ASSIGNED = "经理指派：{name}"
BOARD_PHONE_DUTY = "接电话：{name}"
CARD_TITLE = "今日轮排 {date}"
NOTHING_TO_UNDO = "今天没有可以撤销的操作了。"
UNDO_NOTE = "撤销 {actor} 的「{command}」"
UNDONE = "已撤销：{actor} 的「{command}」（{time}）。"
LOG_UNDONE_MARK = "（已撤销）"
LOG_LINE = "{time} {actor}「{command}」{mark}：{reasons}"
LOG_EMPTY = "今天还没有变更记录{about}。"
LOG_ABOUT = "（与 {name} 有关）"
LOG_HEAD = "今日记录（{date}）："
LOG_MORE = "（另有更早的 {n} 条未显示，发 /记录 全部，私信查看全天记录）"
LOG_ALL_WORD = "全部"
ROSTER_ALREADY = "{name} 已在名单里。"
ROSTER_BAD_NAME = "不能添加「{name}」：{problem}。"
ROSTER_ADDED_NOTE = "经理把 {name} 加入名单（排在最后）"
ROSTER_ADDED = "{name} 已加入名单，排在最后；签到后参加轮排。"
ROSTER_NO_SUCH = "名单里没有「{name}」。"
ROSTER_BUSY = "{name} 还有接待中的客户，请先送客。"
ROSTER_REMOVED_NOTE = "经理把 {name} 移出名单"
ROSTER_REMOVED = "{name} 已移出名单。"
ROSTER_STILL_OWNS = "{name} 名下还有 {n} 位跟踪中的客户：请发 /转移 {name} 乙，把客户交给同事乙。"
NOT_A_MANAGER = "{name} 不是经理。"
DEMOTED_NOTE = "取消 {name} 的经理身份"
DEMOTED = "{name} 不再是本项目的经理。"
TRANSFER_SAME = "转出和转入是同一人。用法：/转移 甲 乙"
TRANSFER_NONE = "{name} 名下没有跟踪中的客户，无需转移。"
TRANSFER_NOTE = "{name}（{phone}）由 {source} 转给 {target}"
TRANSFER_TO_SOURCE = "你名下 {n} 位客户已由经理转给 {target}：{names}"
TRANSFER_TO_TARGET = "经理把 {source} 名下 {n} 位客户转给了你，请及时跟进：{names}"
TRANSFERRED = "已把 {source} 名下 {n} 位跟踪中的客户转给 {target}，已私信告知两人。"
CORRECT_NOT_OWNER = "{name} 归属 {owner}，只有归属人或经理可以更正姓名。"
CORRECT_SAME = "姓名已经是「{name}」，无需更正。"
CORRECT_PHONE_SAME = "{name} 的手机已经是 {phone}，无需更正。"
CORRECT_PHONE_TAKEN = "{phone} 已是另一位客户 {name} 的手机（归属 {owner}），不能改成它；如是同一人请经理 /核实。"
CORRECT_PHONE_NOT_OWNER = "{name}（{phone}）归属 {owner}，只有归属人（登记当天）或经理可以更正手机号。"
CORRECT_PHONE_LATE = "{name} 是 {day} 登记的；登记当天之后手机号只能由经理更正（经理发：更正 {phone} 新手机）。"
PHONE_CORRECTED_NOTE = "{me} 更正 {name} 的手机：{old} → {new}，归属不变"
PHONE_CORRECTED = "已更正 {name} 的手机：{old} → {new}，归属 {owner} 不变。"
TYPO_HINT = "如果是 {name} 的手机号填错了，不用 /撤销，请发：更正 {phone} 新手机。"
CORRECTED_NOTE = "{me} 更正客户姓名：{old} → {name}（{phone}），归属不变"
CORRECTED = "已更正：{old} → {name}（{phone}），归属 {owner} 不变。"
ROSTER_MANAGER_NOTE = "{name} 成为经理"
ROSTER_MANAGER = "{name} 现在是本项目的经理。"
SUMMARY_HEAD = "【{date} 日报】{project}"
SUMMARY_RECEPTIONS = "接待：{items}"
SUMMARY_RECEPTION_ITEM = "{name} 计{counted}/不计{uncounted}"
SUMMARY_DEALS = "成交：{items}"
SUMMARY_DEAL_ITEM = "{name}（{phone}）{units}套 {shares}"
SUMMARY_LAPSING = "明天到期：{items}"
SUMMARY_LAPSING_ITEM = "{name}（{owner}）"
EXPORT_BAD_DATE = "日期格式应为 YYYY-MM-DD，例如 /导出 2026-11-01 2026-11-30。"
EXPORT_END_BEFORE_START = "结束日期早于起始日期。"
EXPORT_RANGE = "导出的日期应在 2000-01-01 至 2099-12-31 之间。"
EXPORTED = "导出完成（{start} 至 {end}）：{path}"
# the /导出 workbook: sheet names, header rows, cells
EXPORT_CUSTOMERS_SHEET = "来访客户登记表"
EXPORT_CUSTOMERS_HEADERS = ["登记时间", "客户姓名", "手机", "归属人", "登记人", "状态", "最后跟进", "有效期至", "备注"]
EXPORT_RECEPTIONS_SHEET = "接待记录"
EXPORT_RECEPTIONS_HEADERS = ["日期", "开始", "结束", "接待人", "客户", "手机", "类别", "计名次", "代/为谁接待", "非客类型"]
EXPORT_DEALS_SHEET = "成交记录"
EXPORT_DEALS_HEADERS = ["成交日期", "客户", "手机", "购房人", "关系", "套数", "业绩分配", "报单人"]
EXPORT_SUMMARY_SHEET = "汇总"
EXPORT_CHART_TITLE = "{start} 至 {end} 每位销售"
EXPORT_OTHER_PHONES = "另有手机：{phones}"
EXPORT_OTHER_NAMES = "其他姓名：{names}"
EXPORT_YES, EXPORT_NO = "是", "否"

# ---- the live board and the reports (/看板 /周报 /月报, the web pages) -------------------
WEB_OFF = "看板未启用：请在 config.yaml 里设置 web（host、port、base_url），再运行 reception-bot web 或 run。"
BOARD_LINKS = ("{head}「{project}」看板（在电视上用浏览器全屏打开，只显示轮排，不含业绩）：\n{base}/board/{token}\n"
               "请勿转发；需要换链接时发 /看板 重置。报表另有链接：发 /报表。")
REPORT_LINKS = ("{head}「{project}」报表（业绩数字，仅限经理）：\n{base}/report/{token}\n"
                "请勿转发；需要换链接时发 /报表 重置。")
BOARD_RESET = "已换新链接，旧链接已失效。\n"
LINK_NO_QR = "（二维码未能生成：{why}）"
REPORT_TITLE = {ReportPeriod.WEEK: "周报", ReportPeriod.MONTH: "月报"}
REPORT_HEAD = "【{title}】{project} {start:%m-%d} 至 {end:%m-%d}"
REPORT_TOTAL = ("合计：接待 {all}（计名次 {counted}），登记 {registrations}，成交 {deals}（{units} 套），"
                "转化率 {conversion}，流失公客 {lapsed}。")
REPORT_LINE = "{name}：接待 {all}（计名次 {counted}），登记 {registrations}，成交 {deals}，转化 {conversion}"
REPORT_EMPTY = "这段时间还没有接待记录。"
REPORT_FUTURE = "{month} 还没到，没有报表。可以发 /月报（本月至今）或 /月报 上月。"
REPORT_NO_CHART = "（图表未能生成：{why}）"
REPORT_HEADERS = ["销售", "接待（计名次）", "接待（不计）", "登记", "成交（按份额）", "套数（按份额）", "转化率",
                  "流失公客", "补接获得", "补接已用"]
REPORT_TOTAL_ROW = "合计"
CHART_SERIES = {"counted": "接待（计名次）", "registrations": "登记", "deals": "成交"}
CHART_UNCOUNTED = "接待（不计）"
CHART_TITLE = "{project} {start:%Y-%m-%d} 至 {end:%Y-%m-%d}"
CHART_BARS = "每位销售"
CHART_LINE = "每日来访"
CHART_NO_FONT = "找不到中文字体（请安装 fonts-noto-cjk，或设置 RECEPTION_CJK_FONT）"
WEEKDAYS = "一二三四五六日"
BOARD_DATE = "{at:%Y}年{at:%m}月{at:%d}日 星期{day}"

# ---- scheduled messages ------------------------------------------------------------------
REMIND_WHEN_EVE = "明天"
REMIND_WHEN_LAST = "今天"
REMINDER = "提醒：你的客户 {who} 的归属{when}（{deadline}）24:00 到期，请及时跟进（发 跟进 {phone} 内容）。"
LAPSED = "{who} 已超过 {days} 天未跟进，{deadline} 24:00 起成为公客。"
REMINDERS = "提醒：你的 {n} 位客户的归属{when} 24:00 到期，请及时跟进：\n{items}"
REMINDER_ITEM = "{who}，{deadline} 到期（发 跟进 {phone} 内容）"
LAPSED_SEVERAL = "{n} 位已超过 {days} 天未跟进，成为公客：\n{items}"
LAPSED_ITEM = "{who}，{deadline} 24:00 起"
LAPSED_TO_OWNER = "你的客户 {text}"
LAPSE_TAKEN = "（现已由 {owner} 重新登记）"
LAPSED_TO_MANAGER = "归属到期：{owner} 的客户 {text}"
CUSTOMER_WHO = "{name}（{phone}）"
NUDGE_NOTE = "{member} 接待超过 {minutes} 分钟，视为可接待"
NUDGE = "你的接待已超过 {minutes} 分钟（自 {since} 起）。结束了请发 送客。"

CATCH_UP = "机器人离线 {days} 天，已补发提醒 {n} 条。"
CATCH_UP_DROPPED = "停机前没发出的{what}已过期，不再补发。"
CATCH_UP_KIND = "{kind} {n} 条"
MESSAGE_KINDS = {"greeting": "开班通知", "summary": "日报", "nudge": "超时提醒", "reminder": "到期提醒",
                 "catch_up": "离线说明"}
# the command line (say / replay / run), one line on stderr
CLI_BEFORE_LAST_CHANGE = "时间 {at} 早于项目「{project}」最后一次变更（{last}），不能倒回去处理。"
CLI_CATCH_UP_TOO_LONG = "项目「{project}」的定时任务要补 {days} 天（超过 {limit} 天）；确认要补上，请加 --catch-up。"
CLI_BAD_TIME = "时间「{value}」无法识别：请写成 YYYY-MM-DD HH:MM（项目时区，日期和钟点要真实存在），例如 2026-12-01 09:00。"
CLI_TIME_TOO_EARLY = "时间「{value}」太早：不能早于 {earliest}。"
CLI_TIME_AHEAD = "时间「{value}」比现在（{now}）晚一天以上：不能处理将来的时间（--catch-up 也不行）。"
CLI_BAD_LINE_TIME = "{file}:{n}: {problem}"

# ---- 帮助 ---------------------------------------------------------------------------------
# Examples are typed exactly as shown (the help reply is catalogue text and is not masked).
HELP_SALES = """【接待助手】在群里直接发：
签到 ／ 签退 ／ 请假 —— 到岗、下班、今天休息
暂离 买咖啡 —— 个人短暂离开（轮到时跳过）
外出 送合同 —— 因公外出（保留位置，回来优先）
回来 —— 回到岗位
轮排 —— 看今天的排队和下一位
接待 —— 轮到我，接待刚进门的客户
到访 张三 13812345678 —— 登记正在接待的客户
到访 张三 13812345678 看三居 —— 带备注
到访 张三 13812345678 点名 —— 客户点名找我（点名 王五：找王五）
到访 张三 13812345678 带访 13900001111 —— 老客户带来的
非客 同行 —— 接待的是同行、市调、装修等
代接 13812345678 —— 替同事接待他的老客户（须被指定）
让 王五 代接 —— 我在忙或不在时，指定王五代接我的老客户
更正 13812345678 王建国 —— 更正客户姓名（手机填错：更正 旧手机 新手机）
送客 —— 接待结束（同时接待几位：送客 姓名）
跟进 13812345678 电话沟通 —— 记录跟进，续期归属
成交 张三 13812345678 2套 —— 报成交
申诉 13812345678 理由 —— 对成交或客户归属申诉
查客 13812345678 —— 查归属（也可用姓名或尾号）
我的客户 —— 私聊告诉你名下客户和到期时间
我是 李四 —— 把账号绑定到名单上的名字（经理确认后生效）
帮助 到访 —— 看一个命令的说明；帮助 经理 —— 经理命令"""

HELP_MANAGER = """【经理命令】（以 / 开头，只有经理可用）
/开班 李四 王五 赵六 —— 现在开班；带名字则今天按此顺序，均视为在岗
/顺序 王五 李四 赵六 —— 调整今天的顺序（列出全部在队成员）
/补接 李四 —— 给李四一次补接
/跳过 李四 未到岗 —— 李四无故不在：排到队尾，不补接
/指派 李四 —— 下一位新客户由李四接待（计名次）；/指派 末位：已报的非客交给队尾（count_all）
/批准 李四 —— 接待中的李四再接一位新客户，或确认超时报的非客
/核实 13812345678 同一人 —— 同名不同电话的登记（或 不同人）
/裁定 13812345678 归 李四 —— 裁定归属；写两人则成交业绩分半
/释放 13812345678 —— 把客户释放为公客
/撤销 —— 撤销今天最近一次变更，可连续撤销
/记录 李四 —— 今天的变更和原因（不带名字看全部）
/日报 —— 现在发今日汇总
/导出 2026-11-01 2026-11-30 —— 导出 Excel，私聊发给你
/周报 ／ /月报 —— 近 7 天或本月的接待、登记、成交，附图表
/看板 —— 私聊发你看板链接；/看板 重置 换新链接
/报表 —— 私聊发你报表链接；/报表 重置 换新链接
/成员 添加 李四 —— 名单调整（也可 移除、经理、取消经理）
/转移 李四 王五 —— 李四名下跟踪中的客户全部转给王五
/绑定 阳光花园 —— 把本群绑定到项目
/确认 李四 —— 确认说「我是 李四」的账号是李四本人"""

HELP_MORE = "帮助 —— 销售命令；帮助 经理 —— 经理命令"
HELP_UNKNOWN_TOPIC = "没有「{topic}」这个命令。" + HELP_MORE
HELP_TOPIC = "{usage}\n{detail}"
HELP_DETAILS = {
    "签到": "到岗后发。开班前签到的，开班时直接在岗；开班后才签到的排在队尾。",
    "暂离": "个人原因短暂离开，轮到你时跳过且不补接。回来后发：回来",
    "外出": "因公外出（送合同、带看等），保留位置，回来后优先接待下一位新客户。",
    "接待": "新客户进门，只有当值的同事（轮排里的下一位）可以发。客户留下电话后再发：到访 姓名 手机",
    "到访": ("登记正在接待的客户：到访 张三 13812345678。\n手机可带空格或横线；后面可加 点名、带访 老客户手机、备注。\n"
             "是同事的老客户时，机器人会交给归属人，并退回你的名次。"),
    "非客": "接待的是 同行/市调/建筑/装修/广告/记者/推销，开始 3 分钟内或客人还没离开时发，名次退回；问路、找人 不算接待。",
    "代接": ("同事的老客户来了而同事在忙或不在：归属人指定的同事（让 甲 代接）发 代接 手机；"
             "归属人在忙又没指定时，由排位最后的在岗同事代接。当天成交与归属人分半。"),
    "让": "归属人在接待中或不在时发：让 王五 代接。王五 再发 代接 手机，接手你的老客户。",
    "更正": ("客户姓名写错了：更正 13812345678 王建国；手机号填错了：更正 13812345678 13812345679（归属人限登记当天）。"
             "只有归属人或经理可以更正，归属不变。"),
    "送客": "接待结束就发，你马上回到在岗。",
    "跟进": "只有归属人可记：跟进 13812345678 电话沟通（或 跟进 张三 内容），归属有效期顺延 7 天。",
    "成交": "成交 张三 13812345678 2套；套数 1–99，也可写 两套。购房人是登记客户的亲属时加：配偶 王建国",
    "查客": "查客 13812345678，也可写姓名、群里打码的号码 138****5678 或尾号 5678。",
    "我的客户": "私聊回复你名下的客户、完整电话和到期时间。",
    "轮排": "今天的顺序、谁在岗、各人接待次数、谁有补接、下一位是谁。",
}

# ---- fairness (RULES §4, §6.1, §9) ---------------------------------------------------------
NO_MAKEUP_OUT_OF_TURN = "{name} 这次接待不是轮到的名次（非当值、非指派），不补接"
WITHDRAW_WHY_REGISTERED = "报了非客后又登记了客户，不是非客"
NON_BUYER_WITHDRAWN = "{me} 报过非客，现在登记了客户：退回的名次和补接已收回（一次接待只得一种补偿）。"
WITHDRAW_WHY_SPLIT = "当天成交已分半，代替义务接待的补接"
SPLIT_MAKEUP_WITHDRAWN = "{name} 当天成交分半，义务接待的补接收回（一次接待只得一种补偿）。"
COUNT_BACK_NO_MAKEUP = " {me} 的名次已退回；这次不是轮到的接待，不补接。"
ALREADY_HOLDS_MAKEUP = "{name} 已经有一次补接未用，不再重复给；用掉后才能再给。"
SKIPPED_TELL = "{name}，你被经理跳过（排到队尾，无补接）。回到岗位后请发 签到。"
SKIP_OFF = "{name} 今天请假或已签退，不在轮排里，不能跳过。"
SKIP_BUSY = "{name} 正在接待客户，不能跳过；送客后自动在岗。"
SKIP_AWAY = "{name} 因公外出，保留位置，不能跳过；回来后优先接待。"
NAME_HELPER_SELF = "不能指定自己代接；你在岗时请直接接待。"
NAME_HELPER_HERE = "{me} 在岗，请自己接待老客户；让 甲 代接 用于你在接待中或不在时。"
NAME_HELPER_NOTE = "{owner} 指定 {helper} 代接"
NAMED_HELPER = "{owner} 指定 {helper} 代接：{helper} 请发 代接 手机（不计名次，当天成交与 {owner} 分半）。"
HELP_NOT_HERE = "{me} 现在不在岗（请先 签到 或 回来），不能代接。"
HELP_NOT_NAMED = "{owner} 已指定 {named} 代接，请交给 {named}。"
HELP_NOT_DEFAULT = "{owner} 在接待中，未指定代接人时由排位最后的在岗同事 {helper} 代接；{owner} 可发：让 甲 代接。"
DEAL_NOT_YOURS = "这位客户今天已报过成交，业绩归 {owner}；只有业绩人或经理可以更正。有异议请 申诉。"
CONFIG_MANAGER_STAYS = "{name} 是配置文件（config.yaml）里的经理，始终是经理；要变更请修改配置文件。"
LAST_MANAGER_STAYS = "{name} 是本项目唯一的经理，不能{word}；请先 /成员 经理 另一人。"
DEMOTE_WORD = "取消经理"
REMOVE_WORD = "移除"

# ---- usage lines (the verb table's; also 帮助 <命令>) -----------------------------------------
USAGES = {
    "签到": '签到 —— 到岗，开始排队',
    "签退": '签退 —— 今天下班，不再排队',
    "请假": '请假 —— 今天休息',
    "暂离": '暂离 [原因] —— 个人短暂离开（轮到时跳过，不补接）',
    "外出": '外出 原因 —— 因公外出（保留位置，回来优先接待）；例：外出 送合同',
    "回来": '回来 —— 回到岗位',
    "接待": '接待 —— 我接待刚到的客户（仅当值者）',
    "到访": '到访 姓名 手机 [点名 [同事]] [带访 老客户手机] [备注] —— 例：到访 张三 13812345678',
    "非客": '非客 类型 —— 同行/市调/建筑/装修/广告/记者/推销，或 问路/找人',
    "代接": '代接 手机 —— 替客户的归属人接待这位老客户',
    "接手": '接手 手机 —— （归属人回来后）接回同事正在接待的我的客户',
    "不接": '不接 —— （被点名的同事）不接这位客人，由报到访的同事继续接待',
    "让": '让 甲 代接 —— （归属人在忙或不在时）指定甲代接我的老客户',
    "送客": '送客 [姓名或手机] —— 接待结束',
    "跟进": '跟进 手机 内容 —— 记录跟进（续期归属）；例：跟进 13812345678 电话沟通',
    "成交": '成交 姓名 手机 [N套] [父母/配偶 登记姓名或手机] [备注] —— 例：成交 张三 13812345678 1套',
    "更正": ('更正 手机 新姓名 或 更正 旧手机 新手机 —— （归属人或经理）更正客户姓名或填错的手机号，归属不变；'
             '例：更正 13812345678 13812345679'),
    "申诉": '申诉 手机 理由 —— 对成交归属或客户归属（无成交时）提出申诉',
    "查客": '查客 手机 或 查客 姓名 —— 查询客户归属',
    "我的客户": '我的客户 —— 私聊回复我的客户和到期时间',
    "轮排": '轮排 —— 查看今日轮排',
    "帮助": '帮助 [经理|命令] —— 命令列表，或一个命令的说明',
    "我是": ('我是 姓名 [验证码] —— 把我的账号绑定到名单上的名字（经理 /确认 后生效；'
             '经理本人用 reception-bot link 生成的验证码，私聊发送）'),
    "开班": '/开班 [甲 乙 丙…] —— 现在开班；带名字则今日按此顺序排队',
    "顺序": '/顺序 甲 乙 丙… —— 设置今日轮排顺序（须列出全部在队成员）',
    "补接": '/补接 甲 —— 给甲一次补接',
    "跳过": '/跳过 甲 [原因] —— 甲无故不在，跳到队尾，不补接',
    "指派": '/指派 甲 —— 下一位新客户由甲接待（计甲的名次）',
    "批准": '/批准 甲 —— 允许接待中的甲再接一位新客户，或确认甲超时报的非客',
    "核实": '/核实 手机 同一人|不同人 —— 处理同名不同电话的登记',
    "裁定": '/裁定 手机 归 甲 [乙] —— 裁定客户归属或成交业绩（两人则分半）',
    "释放": '/释放 手机 —— 把客户释放为公客',
    "撤销": '/撤销 —— 撤销本项目今天最近一次变更',
    "记录": '/记录 [甲] —— 今天的变更记录和原因',
    "日报": '/日报 —— 现在发送今日汇总',
    "导出": '/导出 [起始日期] [结束日期] —— 导出 Excel（登记、接待、成交）',
    "看板": '/看板 [重置] —— 私聊发你看板链接（重置：换新链接，旧链接失效）',
    "报表": '/报表 [重置] —— 私聊发你报表网页链接（重置：换新链接，旧链接失效）',
    "周报": '/周报 [上周] —— 近 7 天（上周：上周一至周日）的接待、登记、成交和图表',
    "月报": '/月报 [上月|2026-11] —— 本月至今（或上月、指定月份）的接待、登记、成交和图表',
    "成员": '/成员 添加|移除|经理|取消经理 甲 —— 调整名单或经理',
    "转移": '/转移 甲 乙 —— 甲名下跟踪中的客户全部转给乙',
    "绑定": '/绑定 项目名 —— 把本群绑定到项目',
    "确认": '/确认 甲 —— 确认说「我是 甲」的账号是甲本人，绑定生效',
    "驳回": '/驳回 甲 [原因] —— 收回甲今天最近一次的优待（退名次、补接、外出保留位置、不计名次的接待）',
}
GO_OUT_NEEDS_REASON = "外出 要写原因（保留位置，经理可见）。\n" + USAGES["外出"]

# ---- benefits (RULES §9a) ------------------------------------------------------------------
BENEFIT_WORDS = {"refund": "退名次", "makeup": "补接", "kept_place": "外出保留位置", "uncounted": "接待不计名次"}
BENEFIT_NOTICE = "优待：{time} {member} {what}（{reason}）。不同意请 /驳回 {member} 原因"
BENEFIT_WITHDRAWN = "已驳回 {member} {time} 的{what}（{reason}）{why}。"
BENEFIT_WITHDRAWN_TELL = "{member}，经理 {manager} 驳回了你 {time} 的{what}（{reason}）{why}。"
BENEFIT_WITHDRAWN_NOTE = "{manager} 驳回 {member} 的{what}（{reason}）{why}"
NAMED_ASK = ("{me} 报：{name}（{phone}）点名找 {named}。请 {named} 在 {minutes} 分钟内发 接待 确认（不接请发 不接）；"
             "确认前由 {me} 继续接待，{minutes} 分钟内无人确认则客人和名次都归 {me}。")
NAMED_ASK_NOTE = "{me} 报 {name} 点名找 {named}，等 {named} 确认"
NAMED_BUSY_WAITING = "{named} 还有一位点名客人等待确认；请 {named} 先发 接待 或 不接。"
NAMED_CONFIRMED = "{named} 确认接待点名客人 {name}，{me} 的接待转交 {named}。"
NAMED_CONFIRMED_NOTE = "{named} 确认接待点名客人 {name}（{me} 报）"
NAMED_KEPT = "{name}（{phone}）由 {me} 继续接待并登记，计 {me} 的名次：{why}。"
NAMED_KEPT_NOTE = "{name} 仍由 {me} 接待：{why}"
NAMED_WHY_DECLINED = "{named} 不接"
NAMED_WHY_TIMEOUT = "{named} {minutes} 分钟内没有确认"
NAMED_NOTHING_WAITING = "{me}，现在没有点名你的客人等你确认。"
Q_TO_TAIL = "{name} 排到队尾（{why}）"
BENEFIT_NONE_TODAY = "{member} 今天没有可驳回的优待。"
BENEFIT_USED = "（补接已用掉，无法收回）"
SUMMARY_BENEFITS = "优待：{items}"
SUMMARY_BENEFIT_ITEM = "{member} {time} {what}（{reason}）{withdrawn}"
SUMMARY_WITHDRAWN = "〔已驳回〕"
SUMMARY_AWAYS = "外出/暂离：{items}"
SUMMARY_AWAY_ITEM = "{member} {word} {start}–{end}（{minutes} 分钟{reason}）"
SUMMARY_AWAY_OPEN = "未回"


# ---- running it as a service (issue 21): the watchdog, backup and restore, doctor ----
PLATFORM_DOWN = ("⚠️ {platform}连接已中断约 {minutes} 分钟，机器人正在自动重连。群里的消息暂时收不到；"
                 "请检查网络，或在服务器上运行 reception-bot doctor。")
PLATFORM_BACK = "✅ {platform}连接已恢复（中断约 {minutes} 分钟）。"
BACKUP_DONE = "已备份到 {path}（{size} 字节）。"
BACKUP_EXISTS = "{path} 已存在：备份不会覆盖文件，请换一个文件名。"
BACKUP_MEMORY = "内存数据库（sqlite://）没有可备份的文件；请用 --db 或 config.yaml 的 database 指向数据库文件。"
BACKUP_NO_TOOL = "没有找到 {tool}（PostgreSQL 客户端，apt install postgresql-client）。也可以手动运行：{by_hand}"
BACKUP_PG_BY_HAND = "PGPASSWORD=… {cmd}"
BACKUP_TOOL_FAILED = "{tool} 失败：{why}"
RESTORE_DONE = "已从 {path} 恢复到 {url}。启动机器人时会自动升级数据库结构。"
RESTORE_NO_FILE = "找不到备份文件 {path}。"
RESTORE_NOT_EMPTY = "目标数据库不是空的（已有 {n} 张表）：恢复只写入新建的空数据库，不会覆盖现有数据。"
RESTORE_NOT_A_BACKUP = "{path} 不是接待助手的 SQLite 备份（{why}）。"
DOCTOR_OK = "OK    {what}: {detail}"
DOCTOR_FAIL = "FAIL  {what}: {why}"
DOCTOR_CONFIG = "配置"
DOCTOR_DATABASE = "数据库"
DOCTOR_CLOCK = "时钟"
DOCTOR_FEISHU = "飞书凭据"
DOCTOR_WECHAT = "微信 puppet 服务"
DOCTOR_PLATFORMS = "平台"
DOCTOR_PORT = "网页端口"
DOCTOR_FONT = "中文字体"
DOCTOR_EMPTY = "空数据库"
DOCTOR_NO_PLATFORM = ("没有设置平台凭据（FEISHU_APP_ID、WECOM_BOT_ID 或 WECHATY_PUPPET_SERVICE_ENDPOINT）："
                      "run 会打开本地控制台")
DOCTOR_SCHEMA_OK = "可以连接，结构是最新的（{head}）"
DOCTOR_SCHEMA_OLD = "结构版本 {current}，程序需要 {head}：启动 run（或任一命令，如 state --json）时会自动升级"
DOCTOR_CLOCK_OK = "本机与数据库相差 {skew:+.1f} 秒"
DOCTOR_CLOCK_SKEW = "本机与数据库的时钟相差 {skew:+.0f} 秒（超过 {limit:.0f} 秒）：请开启 NTP 时间同步"
DOCTOR_UNREACHABLE = "连不上 {where}：{why}"
DOCTOR_FEISHU_REFUSED = "飞书拒绝了 App ID / App Secret（code={code}：{msg}）：请核对 FEISHU_APP_ID 和 FEISHU_APP_SECRET"
DOCTOR_FEISHU_OK = "{app_id} 在 {domain} 取得了 tenant token"
DOCTOR_WECHAT_OK = "{endpoint} 可以连接（token 在连接时才校验）"
DOCTOR_PORT_TAKEN = "{host}:{port} 已被占用（{why}）：请停掉占用它的程序，或改 config.yaml 的 web/ops 端口"
