"""Load a tracking benchmark database: the schema, the demo data, then millions of shipments.

    .venv/bin/python -m bench.load_tracking_data                     # 1M shipments, ~10M events
    .venv/bin/python -m bench.load_tracking_data --shipments 100000  # a quick one

Steps: (re)create the database, migrate it to head with the product's own
migrations, seed the demo data, drop the secondary indexes and the foreign keys
of `shipment` and `tracking_event` (their primary keys stay), stream the rows in
with COPY (text format) from one generator process per core, rebuild what was
dropped from the exact definitions read back from the catalog, then VACUUM
ANALYZE (so that autovacuum does not wake up in the middle of a benchmark).

Every bench shipment has an S10 number with the prefix BN and a serial from 0 up
(BN00000000?HK, BN00000001?HK, ...), so a benchmark can pick random existing
numbers without reading them all. Statuses, cities and event timelines follow
the product's taxonomy: most parcels are delivered, some are failing, held in
customs or on their way back; cross-border ones (Dragon Gate) go through Lok Ma
Chau into Guangdong. Each shipment's events are written interleaved in time with
other shipments' events, as a live system writes them, not clustered per shipment.
`next_poll_at` stays empty: a carrier poller in the product must not wake up for a
million bench shipments in the middle of a benchmark.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.copy import QueuedLibpqWriter

from backend.domain import tracking_number
from bench import common

WINDOW = 20_000  # shipments per batch; their events are sorted by time before they are written
SPAN_DAYS = 365  # shipments were created over the year before the load
MINUTE = 60
NULL = "\\N"  # COPY text format
VARIANT = 0b10 << 62  # RFC 9562 variant bits, at the top of the last 64 bits

SHIPMENT_COLUMNS = (
    "id, tenant_id, tracking_number, sender_name, sender_phone, sender_address, sender_city,"
    " sender_postcode, sender_country, recipient_name, recipient_phone, recipient_address,"
    " recipient_city, recipient_postcode, recipient_country, service_level, carrier_account_id,"
    " carrier_reference, status, status_reason, eta, last_event_at, next_poll_at, raw_payload,"
    " version, created_at, updated_at"
)
EVENT_COLUMNS = (
    "id, tenant_id, shipment_id, occurred_at, recorded_at, status, reason, raw_code,"
    " description, city, country, source, dedupe_key, raw"
)

# Final status of a shipment, in percent; the tail of events that leads there.
FINAL_WEIGHTS = {
    "delivered": 62,
    "in_transit": 12,
    "out_for_delivery": 5,
    "picked_up": 3,
    "delivery_failed": 4,
    "ready_for_pickup": 3,
    "customs": 3,
    "exception": 2,
    "returning": 1,
    "returned": 2,
    "cancelled": 1,
    "pending": 1,
    "unknown": 1,
}
TAILS = {
    "delivered": ["out_for_delivery", "delivered"],
    "delivery_failed": ["out_for_delivery", "delivery_failed"],
    "returning": ["delivery_failed", "returning"],
    "returned": ["delivery_failed", "returning", "returned"],
    "out_for_delivery": ["out_for_delivery"],
    "ready_for_pickup": ["ready_for_pickup"],
    "customs": ["customs"],
    "exception": ["exception"],
    "in_transit": ["in_transit"],
    "picked_up": ["picked_up"],
    "unknown": ["unknown"],
    "cancelled": ["cancelled"],
    "pending": [],
}
REASONS = {
    "delivery_failed": ["recipient_absent", "recipient_absent", "bad_address"],
    "exception": ["damaged", "lost", "weather"],
    "customs": ["customs_documents", "customs_duty"],
    "returning": ["refused", "recipient_absent"],
    "ready_for_pickup": ["held_at_depot"],
}
DESCRIPTIONS = {
    "pending": "Shipment information received",
    "picked_up": "Picked up from sender",
    "in_transit": "Arrived at sorting hub",
    "customs": "Held by customs: documents required",
    "out_for_delivery": "Out for delivery with courier",
    "ready_for_pickup": "Ready for collection at locker",
    "delivery_failed": "Delivery attempted, recipient not available",
    "exception": "Exception reported by carrier",
    "returning": "Returning to sender",
    "returned": "Returned to sender",
    "delivered": "Delivered",
    "cancelled": "Shipment cancelled",
    "unknown": "Carrier update not recognised",
}
RAW_CODES = {
    "pending": "IR",
    "picked_up": "PU",
    "in_transit": "IT",
    "customs": "CH",
    "out_for_delivery": "OD",
    "ready_for_pickup": "RP",
    "delivery_failed": "DF",
    "exception": "EX",
    "returning": "RT",
    "returned": "RS",
    "delivered": "DL",
    "cancelled": "CX",
    "unknown": "Z9",
}
HK_DISTRICTS = [
    "Central",
    "Wan Chai",
    "Causeway Bay",
    "Mong Kok",
    "Tsim Sha Tsui",
    "Kowloon Bay",
    "Kwun Tong",
    "Sha Tin",
    "Tsuen Wan",
    "Tuen Mun",
    "Yuen Long",
    "Tai Po",
    "Tseung Kwan O",
    "Aberdeen",
    "Sai Kung",
]
HK_HUBS = ["Kwai Chung", "Tsing Yi", "Kowloon Bay", "Chek Lap Kok"]
CN_CITIES = ["Shenzhen", "Guangzhou", "Dongguan", "Foshan", "Zhuhai", "Zhongshan"]
CN_POSTCODES = {
    "Shenzhen": "518000",
    "Guangzhou": "510000",
    "Dongguan": "523000",
    "Foshan": "528000",
    "Zhuhai": "519000",
    "Zhongshan": "528400",
}
FAMILY = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Ho", "Leung", "Lam", "Tang", "Chow"]
FAMILY += ["Tsang", "Yip", "Kwok", "Fung", "Mak", "Choi", "Yeung", "Lo", "Siu", "Li", "Zhang"]
GIVEN = ["Mei", "Ka Ming", "Wing Yan", "Chi Hung", "Siu Ling", "Tsz Kin", "Hoi Yan", "Wai Man"]
GIVEN += ["Ka Yee", "Chun Kit", "Yuk Ling", "Man Ho", "Hiu Tung", "Sze Wing", "Kwok Wai", "Jia"]
STREETS = ["Nathan Road", "Queen's Road Central", "Hennessy Road", "Castle Peak Road"]
STREETS += ["Des Voeux Road", "King's Road", "Argyle Street", "Tai Po Road", "Canton Road"]


@dataclass(frozen=True)
class Tenancy:
    """Which demo tenant a bench shipment belongs to, with its carrier accounts."""

    tenant_id: str
    carrier_accounts: list[str]
    cross_border: bool
    share: int  # percent of shipments


@dataclass(frozen=True)
class Plan:
    database_url: str
    shipments: int
    events_per_shipment: int
    seed: int
    tenancies: list[Tenancy]
    start_minute: int  # minutes since the epoch of the oldest shipment


# ---------------------------------------------------------------- database set-up


def migrate_and_seed(database_url: str) -> None:
    """The product's own migrations and demo data, against the bench database."""
    from backend import cache, db
    from backend.config import get_settings
    from backend.services.demo_data import seed_demo_data
    from backend.services.schema import upgrade_to_head

    os.environ["DATABASE_URL"] = database_url
    # Seal the demo's secrets with the master key the benchmarked product will have.
    os.environ["DATA_DIR"] = str(common.BENCH_APP_DIR)
    get_settings.cache_clear()
    db.reset_engine()
    cache.reset_redis()
    upgrade_to_head()
    seed_demo_data()
    db.reset_engine()


def read_tenancies(database_url: str) -> list[Tenancy]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT t.slug, t.id::text, array_agg(a.id::text ORDER BY c.slug)
                 FROM tenant t JOIN carrier_account a ON a.tenant_id = t.id
                 JOIN carrier c ON c.id = a.carrier_id
                GROUP BY t.slug, t.id ORDER BY t.slug DESC"""
        ).fetchall()
    by_slug = {slug: (tenant_id, accounts) for slug, tenant_id, accounts in rows}
    harbour = by_slug["harbour-express"]
    dragon = by_slug["dragon-gate"]
    return [
        Tenancy(harbour[0], harbour[1], cross_border=False, share=70),
        Tenancy(dragon[0], dragon[1], cross_border=True, share=30),
    ]


@dataclass(frozen=True)
class Dropped:
    """What was dropped before the load, to be put back exactly as it was."""

    indexes: list[str]  # CREATE [UNIQUE] INDEX statements (unique constraints' indexes too)
    unique_constraints: list[tuple[str, str]]  # (table, name): re-attached USING INDEX
    foreign_keys: list[tuple[str, str, str]]  # (table, name, definition)


def drop_secondary_structures(database_url: str, *, indexes: bool = True) -> Dropped:
    """Drop the foreign keys of the two big tables and, unless told not to, every index of
    theirs but the primary keys."""
    tables = "('shipment'::regclass, 'tracking_event'::regclass)"
    with psycopg.connect(database_url, autocommit=True) as conn:
        foreign_keys = conn.execute(
            f"""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                  FROM pg_constraint WHERE contype = 'f' AND conrelid IN {tables}"""  # noqa: S608
        ).fetchall()
        uniques = conn.execute(
            f"""SELECT conrelid::regclass::text, conname, pg_get_indexdef(conindid)
                  FROM pg_constraint WHERE contype = 'u' AND conrelid IN {tables}"""  # noqa: S608
        ).fetchall()
        plain = conn.execute(
            f"""SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i
                 WHERE indrelid IN {tables} AND NOT EXISTS (
                       SELECT 1 FROM pg_constraint c
                        WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                          AND c.contype IN ('p', 'u', 'x'))"""  # noqa: S608
        ).fetchall()
        if not indexes:
            uniques, plain = [], []
        for table, name, _ in foreign_keys + uniques:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in plain:
            conn.execute(f"DROP INDEX {name}")
    return Dropped(
        indexes=[definition for _, _, definition in uniques] + [d for _, d in plain],
        unique_constraints=[(table, name) for table, name, _ in uniques],
        foreign_keys=foreign_keys,
    )


def restore_secondary_structures(database_url: str, dropped: Dropped, jobs: int) -> None:
    """Build the indexes `jobs` at a time, then re-attach unique constraints and foreign keys."""

    def build(statement: str) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")
            conn.execute(statement)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(build, dropped.indexes))
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table, name in dropped.unique_constraints:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"')
        for table, name, definition in dropped.foreign_keys:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def vacuum_analyze(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) shipment")
        conn.execute("VACUUM (ANALYZE) tracking_event")


# ---------------------------------------------------------------- row generation


def weighted(weights: dict[str, int]) -> list[str]:
    return [name for name, weight in weights.items() for _ in range(weight)]


def people(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(name, phone, street address) triples to draw from."""
    return [
        (
            f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
            f"+852{rng.choice('5679')}{rng.randrange(10**7):07d}",
            f"Flat {rng.choice('ABCDEFGH')}, {rng.randint(1, 40)}/F,"
            f" {rng.randint(1, 400)} {rng.choice(STREETS)}",
        )
        for _ in range(count)
    ]


def event_statuses(final: str, count: int) -> list[str]:
    """`count` statuses ending in `final`: pending, picked up, hops in transit, then the tail."""
    if final == "pending":
        return ["pending"]
    if final in ("cancelled", "picked_up"):
        return ["pending", final] if count > 1 else [final]
    tail = TAILS[final]
    if count <= len(tail):
        return tail[-count:]
    head_length = count - len(tail)
    return ["pending", "picked_up", *["in_transit"] * head_length][:head_length] + tail


def event_span(average: int) -> float:
    """Journeys get 1 + int(random() * span) events, whose mean is (span + 1) / 2; the span makes
    the overall mean `average` although pending, picked-up and cancelled ones stay short."""
    short = {"pending": 1.0, "picked_up": 2.0, "cancelled": 2.0}  # about what they get
    short_share = sum(FINAL_WEIGHTS[s] for s in short) / 100
    short_events = sum(FINAL_WEIGHTS[s] * n for s, n in short.items()) / 100
    mean_of_others = max(1.0, (average - short_events) / (1 - short_share))
    return 2 * mean_of_others - 1


def event_city(
    status: str, step: int, origin: str, destination: str, cross_border: bool
) -> tuple[str, str]:
    """(city, country) of an event: the sender's district, hubs, the border, the destination."""
    if step == 0 or status in ("pending", "picked_up", "cancelled", "returning", "returned"):
        return origin, "HK"
    if status == "in_transit":
        if cross_border and step % 3 == 0:
            return "Lok Ma Chau", "HK"
        return HK_HUBS[step % len(HK_HUBS)], "HK"
    if status == "customs":
        return ("Shenzhen", "CN") if cross_border else ("Chek Lap Kok", "HK")
    return destination, "CN" if cross_border else "HK"


class Clock:
    """Timestamps as COPY text, precomputed per minute (formatting millions of datetimes is slow)."""

    def __init__(self, start_minute: int, minutes: int, job: int):
        start = datetime.fromtimestamp(start_minute * MINUTE, UTC)
        days = minutes // 1440 + 2
        self.start_minute = start_minute
        self.dates = [(start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days)]
        times = [f" {m // 60:02d}:{m % 60:02d}:{m * 7 % 60:02d}+00" for m in range(1440)]
        self.text = [date + time_of_day for date in self.dates for time_of_day in times]
        # The first half of a UUIDv7 made at each minute (at the second that self.text shows).
        epoch = start_minute * 60
        self.id_prefix = [
            f"{(epoch + m * 60 + m * 7 % 60) * 1000:012x}7{job:03x}" for m in range(len(self.text))
        ]


class RowMaker:
    """Makes the COPY text of shipments and their events; one per generator process."""

    def __init__(self, plan: Plan, job: int):
        self.plan = plan
        self.job = job
        self.rng = random.Random(plan.seed * 1000 + job)
        self.rand = self.rng.random
        self.clock = Clock(
            plan.start_minute, SPAN_DAYS * 1440 + 4 * plan.events_per_shipment * 750, job
        )
        self.people = people(self.rng, 20_000)
        self.finals = weighted(FINAL_WEIGHTS)
        self.tenancies = [t for t in plan.tenancies for _ in range(t.share)]
        self.minutes_per_shipment = SPAN_DAYS * 1440 / plan.shipments
        self.event_span = event_span(plan.events_per_shipment)
        self.sequence = 0
        # The parts of an event line that depend on its status only.
        self.status_part = {s: f"\t{s}\t\t{RAW_CODES[s]}\t{DESCRIPTIONS[s]}\t" for s in RAW_CODES}
        self.raw_part = {s: f'\t{{"code": "{RAW_CODES[s]}", "seq": ' for s in RAW_CODES}

    def pick(self, items: list):
        return items[int(self.rand() * len(items))]

    def new_id(self, minute: int) -> str:
        """A UUIDv7 of the moment `minute`: 48-bit milliseconds, version 7, the job in rand_a,
        variant 10, then a counter in rand_b (RFC 9562, section 6.2, method 1).
        """
        self.sequence += 1
        return f"{self.clock.id_prefix[minute]}{VARIANT | self.sequence:016x}"

    def window(self, first: int, last: int) -> tuple[str, str, int]:
        """COPY text for shipments first..last-1 and for their events, sorted by time."""
        shipments: list[str] = []
        events: list[tuple[int, str]] = []
        for serial in range(first, last):
            shipments.append(self.shipment(serial, events))
        events.sort(key=lambda pair: pair[0])
        return "".join(shipments), "".join(line for _, line in events), len(events)

    def shipment(self, serial: int, events: list[tuple[int, str]]) -> str:
        """One shipment's line; its events are appended to `events` as (minute, line)."""
        rand, pick, text = self.rand, self.pick, self.clock.text
        tenancy = pick(self.tenancies)
        created = int(serial * self.minutes_per_shipment) + int(rand() * 60)
        final = pick(self.finals)
        statuses = event_statuses(final, 1 + int(rand() * self.event_span))
        reason = pick(REASONS[final]) if final in REASONS else ""
        number = tracking_number.make(common.PREFIX, serial)
        shipment_id = self.new_id(created)
        sender, recipient = pick(self.people), pick(self.people)
        origin = pick(HK_DISTRICTS)
        if tenancy.cross_border:
            destination = pick(CN_CITIES)
            country, postcode = "CN", CN_POSTCODES[destination]
            account = tenancy.carrier_accounts[1]  # pearl-river
        else:
            destination = pick(HK_DISTRICTS)
            country, postcode = "HK", ""
            account = tenancy.carrier_accounts[int(rand() * 2) * 2]  # harbour-post or swiftlink
        source = "push" if account == tenancy.carrier_accounts[-1] else "poll"
        if final == "pending" and rand() < 0.5:
            account = NULL  # not routed to a carrier yet

        owner = f"{tenancy.tenant_id}\t{shipment_id}\t"
        minute = created
        for step, status in enumerate(statuses):
            city, where = event_city(status, step, origin, destination, tenancy.cross_border)
            at = text[minute]
            status_part = self.status_part[status]
            if reason and status == final:
                status_part = status_part.replace("\t\t", f"\t{reason}\t", 1)
            events.append(
                (
                    minute,
                    f"{self.new_id(minute)}\t{owner}{at}\t{at}{status_part}{city}\t{where}"
                    f"\t{source}\t{number}-{step}{self.raw_part[status]}{step},"
                    f' "location": "{city}"}}\n',
                )
            )
            last_event = minute
            minute += 30 + int(rand() * 720)
        service = "express" if serial % 5 == 0 else "standard"
        return (
            f"{shipment_id}\t{tenancy.tenant_id}\t{number}\t{sender[0]}\t{sender[1]}\t{sender[2]}"
            f"\t{origin}\t\tHK\t{recipient[0]}\t{recipient[1]}\t{recipient[2]}\t{destination}"
            f"\t{postcode}\t{country}\t{service}\t{account}\tCR{serial:010d}\t{final}\t{reason}"
            f"\t{self.clock.dates[created // 1440 + 3]}\t{text[last_event]}\t{NULL}"
            f'\t{{"source": "bench", "order_ref": "ORD-{serial:08d}", "pieces": 1}}'
            f"\t1\t{text[created]}\t{text[last_event]}\n"
        )


def load_range(plan: Plan, first: int, last: int, job: int) -> tuple[int, int]:
    """One generator process: shipments first..last-1 and their events, over two COPY streams.

    Each stream sends from a thread of its own (psycopg's QueuedLibpqWriter), so that making
    the next window's rows overlaps with the server taking in the last one's.
    """
    maker = RowMaker(plan, job)
    shipments = events = 0
    with (
        psycopg.connect(plan.database_url) as ship_conn,
        psycopg.connect(plan.database_url) as event_conn,
    ):
        for conn in (ship_conn, event_conn):
            conn.execute("SET synchronous_commit = off")
        ship_cursor, event_cursor = ship_conn.cursor(), event_conn.cursor()
        with (
            ship_cursor.copy(
                f"COPY shipment ({SHIPMENT_COLUMNS}) FROM STDIN",
                writer=QueuedLibpqWriter(ship_cursor),
            ) as ship_copy,
            event_cursor.copy(
                f"COPY tracking_event ({EVENT_COLUMNS}) FROM STDIN",
                writer=QueuedLibpqWriter(event_cursor),
            ) as event_copy,
        ):
            for start in range(first, last, WINDOW):
                end = min(start + WINDOW, last)
                ship_text, event_text, event_count = maker.window(start, end)
                ship_copy.write(ship_text)
                event_copy.write(event_text)
                shipments += end - start
                events += event_count
    return shipments, events


def _load_range_star(args: tuple[Plan, int, int, int]) -> tuple[int, int]:
    return load_range(*args)


def load_rows(plan: Plan, jobs: int) -> tuple[int, int]:
    """Split the serials into `jobs` contiguous ranges, one generator process each."""
    step = -(-plan.shipments // jobs)
    ranges = [
        (plan, lo, min(lo + step, plan.shipments), job)
        for job, lo in enumerate(range(0, plan.shipments, step))
    ]
    if len(ranges) == 1:
        return load_range(*ranges[0])
    with multiprocessing.get_context("fork").Pool(len(ranges)) as processes:
        counts = processes.map(_load_range_star, ranges)
    return sum(s for s, _ in counts), sum(e for _, e in counts)


# ---------------------------------------------------------------- command line


def table_sizes(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT relname, pg_size_pretty(pg_table_size(oid)), pg_size_pretty(pg_indexes_size(oid))
                 FROM pg_class WHERE relname IN ('shipment', 'tracking_event') ORDER BY relname"""
        ).fetchall()
    return ", ".join(f"{name} {table} (+{indexes} indexes)" for name, table, indexes in rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load_tracking_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database", default=common.DEFAULT_DATABASE, help="database name (dropped and created)"
    )
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--events-per-shipment", type=int, default=10, help="average per shipment")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generator processes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load with the secondary indexes in place (for comparison; foreign keys are still"
        " dropped during the load and checked when they are put back)",
    )
    parser.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing when the database already holds --shipments bench shipments",
    )
    parser.add_argument(
        "--keep-services",
        action="store_true",
        help="leave the embedded PostgreSQL and Redis running if this run started them",
    )
    args = parser.parse_args(argv)
    if not 0 < args.shipments <= 10**8:
        parser.error("--shipments must be between 1 and 100,000,000 (S10 serials have 8 digits)")
    if args.events_per_shipment < 1:
        parser.error("--events-per-shipment must be at least 1")
    return args


def load(args: argparse.Namespace, found: common.Servers) -> None:
    url = found.database_url(args.database)
    began = total = time.perf_counter()
    common.recreate_database(found, args.database)
    migrate_and_seed(url)
    print(f"database {args.database} created, migrated and seeded in {_since(began)}")
    plan = Plan(
        database_url=url,
        shipments=args.shipments,
        events_per_shipment=args.events_per_shipment,
        seed=args.seed,
        tenancies=read_tenancies(url),
        start_minute=(int(time.time()) // 86_400 - SPAN_DAYS - 30) * 1440,  # a midnight
    )
    dropped = drop_secondary_structures(url, indexes=not args.keep_indexes)
    began = time.perf_counter()
    shipments, events = load_rows(plan, max(1, args.jobs))
    seconds = time.perf_counter() - began
    print(
        f"COPY: {shipments:,} shipments and {events:,} events in {seconds:.1f}s"
        f" ({(shipments + events) / seconds:,.0f} rows/s; shipments and events"
        f" {shipments / seconds:,.0f} and {events / seconds:,.0f} rows/s)"
    )
    began = time.perf_counter()
    restore_secondary_structures(url, dropped, max(1, args.jobs))
    print(f"indexes and foreign keys rebuilt in {_since(began)}")
    began = time.perf_counter()
    vacuum_analyze(url)
    print(f"VACUUM ANALYZE in {_since(began)}")
    print(f"sizes: {table_sizes(url)}")
    print(f"total: {_since(total)}")


def _since(began: float) -> str:
    return f"{time.perf_counter() - began:.1f}s"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = common.servers()
    try:
        url = found.database_url(args.database)
        if args.if_missing and common.database_exists(found, args.database):
            have = common.bench_shipment_count(url)
            if have == args.shipments:
                print(f"{args.database} already holds {have:,} bench shipments: nothing to do")
                return 0
        load(args, found)
    finally:
        if not args.keep_services:
            common.stop_servers(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
