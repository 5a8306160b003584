"""One simulator run: FX rates, backlog, the span's orders, broken and re-delivered files,
then the ground truth (oracle) in `_ground_truth/`."""
from __future__ import annotations

import random
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from . import anomalies as A
from .formats import BANK, EVENTS, FX_COLUMNS, FX_SOURCE_KEY, GATEWAY, INVOICES, SHIPMENTS, csv_header, csv_line, xml_batch_open
from .settlement import write_payouts, write_settlement_edges
from .generator import CHINA, DAY, Generator, day_start
from .landing import LandingWriter, day_range

LANDING_ROOTS = ("oms", "payments", "wms", "erp", "reference", "_ground_truth")
BACKLOG_DAYS = 45  # the first export carries the still-open orders of the previous weeks


@dataclass
class SimConfig:
    orders: int = 2000
    days: int = 14
    seed: int = 42
    out: Path = Path("data/landing")
    clean: bool = False
    start: date = date(2026, 11, 1)
    truth: bool = True
    progress: bool = True
    max_records_per_file: int = 100_000
    extra: dict = field(default_factory=dict)


def backlog_size(orders: int) -> int:
    return 0 if orders < 50 else max(10, round(orders * 0.03))


def simulate(config: SimConfig) -> dict:
    """Generate the landing folder and its ground truth; returns the summary (also in summary.json)."""
    out = Path(config.out)
    for root in LANDING_ROOTS:  # a rerun must produce the same bytes, so start from nothing
        if (out / root).exists():
            shutil.rmtree(out / root)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config.seed)
    bad_rng = random.Random(config.seed * 1_000_003 + 17)
    first_day = config.start
    last_day = first_day + timedelta(days=config.days - 1)
    writer = LandingWriter(out, first_day, last_day, config.max_records_per_file)
    gen = Generator(rng, bad_rng, writer, config.clean)

    write_fx_rates(out, rng, first_day - timedelta(days=BACKLOG_DAYS + 5), last_day)

    n_backlog = backlog_size(config.orders)
    n_span = config.orders - n_backlog
    per_day = [n_span // config.days + (1 if i < n_span % config.days else 0) for i in range(config.days)]
    eligible = sum(n for i, n in enumerate(per_day) if config.days - 1 - i >= min(A.LEAD_DAYS.values()))
    target = A.per_type_target(config.orders)
    scheduler = A.AnomalyScheduler(rng, eligible, target, enabled=not config.clean)
    gen.scheduler = scheduler

    progress = tqdm(total=config.orders, unit="orders", file=sys.stderr, disable=not config.progress,
                    desc="simulating")
    seq_per_date: Counter = Counter()

    # Backlog: orders of the weeks before the span, still open when the exports start.
    backlog_start = day_start(first_day) - BACKLOG_DAYS * DAY
    times = sorted(rng.randint(backlog_start, day_start(first_day) - 1) for _ in range(n_backlog))
    overdue_cutoff = day_start(last_day) - 33 * DAY  # invoiced ~1 day after creation, +30 days, margin
    old_enough = [i for i, t in enumerate(times) if t < overdue_cutoff]
    overdue = set() if config.clean else set(rng.sample(old_enough, min(target, len(old_enough))))
    for index, created in enumerate(times):
        local = datetime.fromtimestamp(created, CHINA).date()
        seq_per_date[local] += 1
        anomaly = A.AR_OVERDUE if index in overdue else None
        customer = rng.choice(gen.b2b_customers) if anomaly else None
        order = gen.new_order(created, seq_per_date[local], anomaly, customer=customer, backlog=True)
        if anomaly:
            scheduler.count(anomaly)
        gen.run_group([order])
        progress.update(1)

    # The span: orders day by day, in creation order.
    for day_index, count in enumerate(per_day):
        day = first_day + timedelta(days=day_index)
        start = day_start(day)
        times = sorted(rng.randint(start, start + DAY - 1) for _ in range(count))
        days_left = config.days - 1 - day_index
        i = 0
        while i < count:
            seq_per_date[day] += 1
            if count - i >= 2 and rng.random() < 0.03:
                # A b2b customer places 2-3 orders at once; the ERP invoices them together.
                size = min(count - i, rng.choice((2, 3)))
                customer = rng.choice(gen.b2b_customers)
                group = []
                for k in range(size):
                    if k:
                        seq_per_date[day] += 1
                    group.append(gen.new_order(times[i + k], seq_per_date[day], None, customer=customer))
                gen.run_group(group)
                i += size
                progress.update(size)
                continue
            anomaly = scheduler.pick(days_left)
            gen.run_group([gen.new_order(times[i], seq_per_date[day], anomaly)])
            i += 1
            progress.update(1)
        gen.daily_debits(day.isoformat())
    progress.close()

    write_payouts(gen, last_day, config.orders)  # after every order: the earlier records keep their bytes
    write_settlement_edges(gen, last_day)
    malformed = [] if config.clean else write_malformed_files(writer, gen, rng, config)
    files = writer.close()
    redelivered = [] if config.clean else redeliver_files(writer, rng, files, first_day, config)
    summary = {
        "seed": config.seed,
        "args": {"orders": config.orders, "days": config.days, "seed": config.seed, "start": first_day.isoformat(),
                 "clean": config.clean, "truth": config.truth},
        "span": {"first_export_date": first_day.isoformat(), "last_export_date": last_day.isoformat()},
        "orders": {"total": config.orders, "backlog_before_span": n_backlog, "created_in_span": n_span},
        "records_delivered": writer.records_written,
        "records_not_yet_delivered": writer.undelivered,
        "invalid_records": dict(Counter(r.source for r in writer.invalid)),
        "invalid_by_reason": dict(sorted(Counter(r.reason for r in writer.invalid).items())),
        "exact_repeats": writer.exact_repeats,
        "redelivered_files": redelivered,
        "malformed_files": malformed,
        "injected": scheduler.injected,
        "files_written": len(files),
    }
    from .truth import write_ground_truth  # imported late: the oracle is only needed with truth
    write_ground_truth(out, writer.invalid, summary, with_exceptions=config.truth, progress=config.progress,
                       injections=gen.injections)
    return summary


def write_fx_rates(out: Path, rng: random.Random, first: date, last: date) -> None:
    """reference/fx_rates/fx_YYYY-MM.csv: a USD rate for every date (weekends included)."""
    rate = 7.10
    rows: dict[str, list[str]] = {}
    day = first
    while day <= last:
        rate = min(7.35, max(6.85, rate + rng.uniform(-0.012, 0.012)))
        rows.setdefault(day.strftime("%Y-%m"), []).append(csv_line((day.isoformat(), "USD", f"{rate:.4f}")))
        day += timedelta(days=1)
    folder = out / FX_SOURCE_KEY
    folder.mkdir(parents=True, exist_ok=True)
    for month, lines in rows.items():
        text = ",".join(FX_COLUMNS) + "\n" + "".join(line + "\n" for line in lines)
        (folder / f"fx_{month}.csv").write_bytes(text.encode("utf-8"))


def write_malformed_files(writer: LandingWriter, gen: Generator, rng: random.Random, config: SimConfig) -> list[str]:
    """Whole files the loaders must reject as malformed_file: a truncated XML batch, undecodable
    bytes (UTF-8 and GBK), CSV headers that differ. Their records are copies of records already
    delivered, so rejecting them loses nothing; each holds a different number of them, so no two
    are byte-identical (the second would be a re-delivery, not a malformed file)."""
    days = day_range(config.start, config.days)
    copies = max(1, min(10, config.orders // 1000))
    written = []
    for n in range(1, copies + 1):
        day = rng.choice(days)
        invoices = list(writer.recent[INVOICES.key])[-(2 + n):]
        if invoices:
            whole = xml_batch_open(day) + "\n" + "\n".join(invoices) + "\n</InvoiceBatch>\n"
            cut = whole.encode("utf-8")[: int(len(whole.encode("utf-8")) * 0.6)]
            written.append(writer.write_raw_file(INVOICES, day, f"invoices_partial_{n:04d}.xml", cut, "malformed_file"))
        events = list(writer.recent[EVENTS.key])[-(3 + n):]
        if events:
            body = "\n".join(events).encode("utf-8")
            middle = len(body) // 2
            broken = body[:middle] + b"\xff\xfe" + body[middle:] + b"\n"
            written.append(writer.write_raw_file(EVENTS, day, f"events_resend_{n:04d}.jsonl", broken, "malformed_file"))
        shipments = list(writer.recent[SHIPMENTS.key])[-(2 + n):]
        if shipments:
            header = "shipment_id,order_no,warehouse_id,carrier,tracking_no,created_at,items"  # renamed column
            text = header + "\n" + "".join(row + "\n" for row in shipments)
            written.append(writer.write_raw_file(SHIPMENTS, day, f"shipments_manual_{n:04d}.csv", text.encode("utf-8"),
                                                 "malformed_file"))
        gateway = list(writer.recent[GATEWAY.key])[-(2 + n):]
        if gateway:
            header = ",".join(["txn_id", "order_id", "method", "txn_type", "status", "amount", "currency", "created_at"])
            text = header + "\n" + "".join(row + "\n" for row in gateway)  # the fee column is missing
            written.append(writer.write_raw_file(GATEWAY, day, f"txns_legacy_{n:04d}.csv", text.encode("utf-8"),
                                                 "malformed_file"))
        bank = list(writer.recent[BANK.key])[-(2 + n):]
        if bank:
            body = (csv_header(BANK) + "\n" + "".join(row + "\n" for row in bank)).encode("gbk")
            broken = body[:-5] + b"\xff" + body[-5:]  # a byte no GBK sequence starts with
            written.append(writer.write_raw_file(BANK, day, f"statement_retry_{n:04d}.csv", broken, "malformed_file"))
    return written


def redeliver_files(writer: LandingWriter, rng: random.Random, files: list[str], first_day: date,
                    config: SimConfig) -> list[dict]:
    """Byte-identical copies of some delivered files, under another name or a later day folder."""
    if not files:
        return []
    days = day_range(first_day, config.days)
    count = max(2, min(40, config.orders // 500))
    chosen = rng.sample(files, min(count, len(files)))
    copies = []
    for path in sorted(chosen):
        day = path.rsplit("/", 2)[1]
        later = [d for d in days if d > day]
        to_day = rng.choice(later) if later and rng.random() < 0.6 else day
        copies.append({"original": path, "copy": writer.redeliver(path, to_day)})
    return copies
