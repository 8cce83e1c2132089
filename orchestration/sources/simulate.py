"""The story: one B2B software company's revenue cycle, simulated with numpy.

`simulate(scale, seed, mess)` returns a `World`: for every source table a pyarrow table of
*record versions* (every state a record had, with when it changed and when the connector
received it), the true persons and accounts behind every record, and the true stage
timelines. `export.py` cuts that into daily export files; `truth.py` writes the truth.

Everything is vectorized over persons / accounts / events; the only Python loops run over
a handful of stages, renewals or stage values, never over rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fmt import DAY, base62_ids, epoch, int_str, join, take, uuids
from .mess import MessConfig
from .schemas import TABLES
from . import vocabulary as V

HOUR = 3600
START = epoch("2025-07-01T00:00:00")       # first day of company life in the data
CUTOFF = epoch("2026-07-01T00:00:00")      # the initial export holds everything before this
FUTURE_DAYS = 60                            # days simulated beyond CUTOFF (for daily deltas)
HORIZON = CUTOFF + FUTURE_DAYS * DAY
HISTORY_DAYS = (CUTOFF - START) // DAY
PEOPLE_PER_SCALE = 2500                     # persons arriving in the 12 months of history
COMPANY_DOMAIN = "northpeak.io"
SITE = "https://www.northpeak.io"
PORTAL_ID = 4727653
APP_ID = 113

NAN = np.nan

FIRST_NAMES = (
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Chris Karen Daniel Lisa Matthew Nancy Anthony "
    "Sandra Mark Ashley Paul Emily Steven Michelle Andrew Amanda Kevin Melissa Brian Laura "
    "George Stephanie Lukas Anna Jonas Lea Felix Marie Louis Camille Hugo Chloe Noah Emma "
    "Oliver Sophie Lars Ingrid Mateo Lucia Raj Priya Kenji Yuki Omar Fatima Ivan Olga"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
    "Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell "
    "Mueller Schmidt Schneider Fischer Weber Meyer Dubois Laurent Bernard Moreau Rossi Bianchi "
    "Jansen DeVries Nielsen Larsen Kowalski Novak Patel Sharma Tanaka Sato Kim Park Silva Costa"
).split()
CO_PREFIX = (
    "Blue North Silver Red Green Bright Clear Swift Iron Oak Pine Cedar Summit Harbor River "
    "Stone Maple Falcon Eagle Atlas Nova Apex Vertex Quantum Lumen Polar Solar Terra Vista "
    "Crest Peak Delta Orbit Pixel Signal Beacon Anchor Copper Granite Willow Aurora Zenith "
    "Echo Ember Frontier Horizon Keystone Meridian Pioneer"
).split()
CO_SUFFIX = (
    "Systems Labs Analytics Logistics Health Foods Energy Capital Software Networks Media "
    "Retail Robotics Bio Motors Works Group Partners Dynamics Solutions Cloud Data Security "
    "Learning Finance Travel Farms Materials Devices Consulting"
).split()
INDUSTRIES = ("Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing",
              "Education", "Media", "Logistics", "Energy", "Professional Services",
              "Telecommunications", "Government")
COUNTRIES = ("United States", "United Kingdom", "Germany", "France", "Canada", "Netherlands",
             "Australia", "Sweden", "Spain", "Japan")
COUNTRY_P = (0.46, 0.12, 0.10, 0.07, 0.06, 0.05, 0.05, 0.03, 0.03, 0.03)
COUNTRY_TLD = (".com", ".co.uk", ".de", ".fr", ".ca", ".nl", ".com.au", ".se", ".es", ".jp")
CITIES = ("New York", "London", "Berlin", "Paris", "Toronto", "Amsterdam", "Sydney",
          "Stockholm", "Madrid", "Tokyo")
TZ_OFFSET_MIN = (-300, 60, 120, 120, -300, 120, 600, 120, 120, 540)   # zone of each country
TITLES = ("VP Marketing", "Head of Revenue Operations", "Marketing Manager", "Data Analyst",
          "CFO", "Director of Sales", "Growth Lead", "Software Engineer", "CEO",
          "Marketing Operations Manager", "Sales Operations Analyst", "CTO")
TITLE_P = (0.08, 0.08, 0.16, 0.14, 0.04, 0.08, 0.08, 0.14, 0.03, 0.08, 0.07, 0.02)
CHANNELS = ("organic_search", "paid_search", "paid_social", "direct", "referral")
CHANNEL_P = (0.33, 0.22, 0.15, 0.18, 0.12)
HS_SOURCE = ("ORGANIC_SEARCH", "PAID_SEARCH", "PAID_SOCIAL", "DIRECT_TRAFFIC", "REFERRALS")
SF_LEAD_SOURCE = ("Organic Search", "Paid Search", "Paid Social", "Web", "Partner Referral")
PATHS = ("/", "/product", "/pricing", "/customers", "/integrations", "/about", "/webinars",
         "/docs/getting-started", "/docs/api", "/blog/revenue-operations-101",
         "/blog/lead-scoring-that-works", "/blog/attribution-models", "/blog/pipeline-reviews",
         "/blog/mql-to-sql-handover", "/blog/churn-signals", "/resources/benchmark-report",
         "/resources/roi-calculator", "/demo", "/contact-sales", "/security")
PATH_P = np.array((12, 9, 6, 4, 4, 2, 3, 4, 2, 6, 6, 5, 4, 5, 3, 4, 3, 2, 1, 2), float)
PATH_TITLES = tuple("Northpeak | " + (p.strip("/").split("/")[-1].replace("-", " ").title() or "Home")
                    for p in PATHS)
REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "https://news.ycombinator.com/",
             "https://www.g2.com/", "https://www.linkedin.com/", "https://partner.example.org/")
# ad campaigns: (platform, utm_source, utm_medium, name)
AD_CAMPAIGNS = (
    ("google_ads", "google", "cpc", "brand_search"),
    ("google_ads", "google", "cpc", "competitor_search"),
    ("google_ads", "google", "cpc", "revops_generic"),
    ("google_ads", "google", "cpc", "attribution_software"),
    ("google_ads", "google", "cpc", "retargeting_display"),
    ("microsoft_ads", "bing", "cpc", "brand_search_bing"),
    ("microsoft_ads", "bing", "cpc", "revops_generic_bing"),
    ("linkedin_ads", "linkedin", "paid_social", "abm_enterprise"),
    ("linkedin_ads", "linkedin", "paid_social", "benchmark_report_promo"),
    ("linkedin_ads", "linkedin", "paid_social", "webinar_promo"),
    ("facebook_ads", "facebook", "paid_social", "lookalike_trials"),
    ("facebook_ads", "facebook", "paid_social", "retargeting_social"),
)
AD_ACCOUNT = {"google_ads": "123-456-7890", "microsoft_ads": "F1204577", "linkedin_ads": "508834112",
              "facebook_ads": "act_10157731"}
FORMS = (  # (form_id suffix, title, path)
    ("newsletter", "Newsletter signup", "/blog/revenue-operations-101"),
    ("ebook", "Download: The Revenue Operations Benchmark", "/resources/benchmark-report"),
    ("webinar", "Webinar registration", "/webinars"),
    ("roi", "ROI calculator", "/resources/roi-calculator"),
    ("demo", "Request a demo", "/demo"),
    ("contact", "Contact sales", "/contact-sales"),
)
PLANS = ("starter", "growth", "enterprise")
PLAN_SEAT_PRICE = (30000, 60000, 120000)            # cents per seat per year
TERM_MONTHS = (3, 6, 12)
TICKET_SUBJECTS = ("Cannot connect Salesforce", "Question about invoice", "Dashboard is slow",
                   "How do I add users?", "SSO setup", "Data not refreshing", "Feature request",
                   "API rate limit", "Export to CSV fails", "Billing contact change")


def lognormal(rng, median_days, sigma, n):
    return np.exp(rng.normal(np.log(median_days * DAY), sigma, n))


def business_time(rng, t, weekend_keep=0.15):
    """Move times to working hours and mostly off weekends (weekday seasonality)."""
    t = np.asarray(t, dtype=np.float64)
    n = len(t)
    ok = ~np.isnan(t)
    day = np.floor_divide(np.where(ok, t, 0), DAY)
    wd = (day + 3) % 7                                         # Monday = 0
    tod = np.clip(rng.normal(14.0 * HOUR, 3.0 * HOUR, n), 5 * HOUR, 23 * HOUR)
    out = day * DAY + np.floor(tod)
    move = (wd >= 5) & (rng.random(n) > weekend_keep)
    out = np.where(move & (wd == 5), out - DAY, out)
    out = np.where(move & (wd == 6), out + DAY, out)
    return np.where(ok, out, NAN)


def after(t, prev, gap=60.0):
    """t, but never earlier than prev + gap (NaN stays NaN)."""
    return np.where(np.isnan(t) | np.isnan(prev), t, np.maximum(t, prev + gap))


def dup_rank(keys: pa.Array) -> np.ndarray:
    """0 for the first occurrence of each key, 1 for the second, ..."""
    codes = np.asarray(pc.dictionary_encode(keys).indices)
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    start = np.r_[True, sc[1:] != sc[:-1]]
    grp_start = np.maximum.accumulate(np.where(start, np.arange(len(sc)), 0))
    rank = np.empty(len(sc), np.int64)
    rank[order] = np.arange(len(sc)) - grp_start
    return rank


def vary_email(rng, email: pa.Array, rate: float) -> tuple[pa.Array, int]:
    """The same address with different case and/or spaces, on a share `rate` of records."""
    n = len(email)
    if rate <= 0 or n == 0:
        return email, 0
    r = rng.random(n)
    kind = rng.integers(0, 4, n)
    pick = r < rate
    upper = pc.utf8_upper(email)
    capital = pc.utf8_capitalize(email)
    spaced = join(" ", email, " ")
    trail = join(email, " ")
    varied = pc.choose(pa.array(kind), capital, upper, spaced, trail)
    return pc.if_else(pa.array(pick), varied, email), int(pick.sum())


# ---------------------------------------------------------------------------------- builder
class Builder:
    """Accumulates record versions per table. Meta columns: _rid (record number within the
    table), _vt (when this version became true), _arr (when the connector received it),
    _person / _account (the true identity, -1 for none)."""

    def __init__(self):
        self.pieces: dict[str, list[dict]] = {k: [] for k in TABLES}

    def add(self, key, vt, rid, person=None, account=None, arr=None, **cols):
        vt = np.asarray(vt, dtype=np.float64)
        ok = ~np.isnan(vt) & (vt < HORIZON)
        if not ok.all():
            sel = np.nonzero(ok)[0]
            cut = lambda v: (v[sel] if isinstance(v, np.ndarray) and v.ndim and len(v) == len(vt)
                             else pc.take(v, pa.array(sel)) if isinstance(v, (pa.Array, pa.ChunkedArray)) else v)
            rid, person, account, arr = cut(np.asarray(rid) * np.ones(len(vt), np.int64)), cut(person), cut(account), cut(arr)
            cols = {c: cut(v) for c, v in cols.items()}
            vt = vt[sel]
        n = len(vt)
        if n == 0:
            return
        spec = TABLES[key]
        piece = {"_n": n, "_rid": np.asarray(rid, dtype=np.int64) * np.ones(n, np.int64), "_vt": vt,
                 "_arr": vt.copy() if arr is None else np.asarray(arr, np.float64),
                 "_person": np.full(n, -1, np.int64) if person is None else np.asarray(person, np.int64) * np.ones(n, np.int64),
                 "_account": np.full(n, -1, np.int64) if account is None else np.asarray(account, np.int64) * np.ones(n, np.int64)}
        for c, v in cols.items():
            if c not in spec.types:
                raise KeyError(f"{key} has no column {c}")
            try:
                piece[c] = _broadcast(v, n, spec.types[c])
            except Exception as e:
                raise TypeError(f"{key}.{c}: {e}") from e
        self.pieces[key].append(piece)

    def finish(self) -> dict[str, pa.Table]:
        out = {}
        for key in list(self.pieces):
            pieces = self.pieces.pop(key)
            spec = TABLES[key]
            cols = {}
            for c in ("_rid", "_vt", "_arr", "_person", "_account"):
                cols[c] = pa.array(np.concatenate([p.pop(c) for p in pieces]) if pieces else np.zeros(0, np.float64 if c in ("_vt", "_arr") else np.int64))
            for c in spec.columns:
                typ = spec.types[c]
                parts = []
                for p in pieces:
                    n = p["_n"]
                    parts.append(p.pop(c) if c in p else _broadcast(None, n, typ))
                if typ == "s":
                    cols[c] = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
                elif typ == "b":
                    cols[c] = pa.array(np.concatenate(parts) if parts else np.zeros(0, bool))
                else:
                    cols[c] = pa.array(np.concatenate(parts) if parts else np.zeros(0))
            out[key] = pa.table(cols)
        return out


def _broadcast(v, n, typ):
    if typ == "s":
        if v is None:
            return pa.nulls(n, pa.string())
        if isinstance(v, str):
            return pa.array(np.full(n, v, dtype=object), pa.string()) if n else pa.array([], pa.string())
        if isinstance(v, pa.ChunkedArray):
            v = v.combine_chunks()
        if isinstance(v, pa.Array):
            return v.cast(pa.string())
        return pa.array(np.asarray(v, dtype=object), pa.string())
    if typ == "b":
        if v is None:
            return np.zeros(n, bool)
        return np.broadcast_to(np.asarray(v, dtype=bool), (n,)).copy()
    if v is None:
        return np.full(n, NAN)
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()


# ---------------------------------------------------------------------------------- world
@dataclass
class World:
    scale: float
    seed: int
    mess: MessConfig
    tables: dict[str, pa.Table]
    persons: pa.Table
    accounts: pa.Table
    person_timeline: pa.Table          # true_person_id, funnel_stage, entered_at, outcome
    opportunity_timeline: pa.Table     # opportunity_id, true_person_id, true_account_id, stage_name, entered_at
    identifiers: pa.Table              # system, table, record_id, true_person_id, true_account_id, first_seen
    mess_counts: dict = field(default_factory=dict)


def simulate(scale: float = 0.1, seed: int = 42, mess: MessConfig | None = None) -> World:
    mess = MessConfig() if mess is None else mess
    rng = np.random.default_rng([seed, 20260701])
    b = Builder()
    mc = {k: 0 for k in mess.as_dict()}
    idents: list[dict] = []

    # ------------------------------------------------------------------ accounts
    n_people = max(40, int(round(PEOPLE_PER_SCALE * scale * (HORIZON - START) / (CUTOFF - START))))
    A = max(10, int(round(n_people / 4)))
    perm = rng.permutation(len(CO_PREFIX) * len(CO_SUFFIX))
    combo = perm[np.arange(A) % len(perm)]
    gen = np.arange(A) // len(perm)
    pre_i, suf_i = combo // len(CO_SUFFIX), combo % len(CO_SUFFIX)
    gen_s = pc.if_else(pa.array(gen > 0), join(" ", int_str(gen + 1)), pa.scalar("", pa.string()))
    acc_name = join(take(CO_PREFIX, pre_i), " ", take(CO_SUFFIX, suf_i), gen_s)
    country = rng.choice(len(COUNTRIES), A, p=COUNTRY_P)
    dom_gen = pc.if_else(pa.array(gen > 0), int_str(gen + 1), pa.scalar("", pa.string()))
    domain = pc.utf8_lower(join(take(CO_PREFIX, pre_i), take(CO_SUFFIX, suf_i), dom_gen, take(COUNTRY_TLD, country)))
    employees = np.clip(np.round(np.exp(rng.normal(np.log(150), 1.3, A))), 5, 50000)
    industry = rng.integers(0, len(INDUSTRIES), A)
    revenue = np.round(employees * rng.uniform(80e3, 250e3, A), -3)
    competitor = rng.random(A) < 0.02
    plan = np.where(employees < 100, 0, np.where(employees < 1000, 1, 2))

    # ------------------------------------------------------------------ persons
    N = n_people
    g = 0.6                                                    # growth: later months busier
    u = rng.random(N) * (1 + g / 2)
    x = (-1 + np.sqrt(1 + 2 * g * u)) / g
    t0 = business_time(rng, START + x * (HORIZON - START), weekend_keep=0.35)
    t0 = np.clip(t0, START, HORIZON - 1)
    kind = np.zeros(N, np.int64)                               # 0 buyer 1 competitor 2 internal 3 test
    w = employees ** 0.6
    acct = rng.choice(A, N, p=w / w.sum())
    r = rng.random(N)
    kind = np.where(competitor[acct], 1, kind)
    kind = np.where(r < 0.01, 2, np.where(r < 0.02, 3, kind))
    acct = np.where(kind >= 2, -1, acct)
    buyer = kind == 0
    fn_i = rng.integers(0, len(FIRST_NAMES), N)
    ln_i = rng.integers(0, len(LAST_NAMES), N)
    first = take(FIRST_NAMES, fn_i)
    last = take(LAST_NAMES, ln_i)
    a_idx = np.maximum(acct, 0)
    p_domain = pc.if_else(pa.array(kind == 2), pa.scalar(COMPANY_DOMAIN), pc.take(domain, pa.array(a_idx)))
    local = pc.utf8_lower(join(first, ".", last))
    rank = dup_rank(join(local, "@", p_domain))
    local = pc.if_else(pa.array(rank > 0), join(local, int_str(rank + 1)), local)
    email = join(local, "@", p_domain)
    email = pc.if_else(pa.array(kind == 3), join("test+", int_str(np.arange(N)), "@example.com"), email)
    full_name = join(first, " ", last)
    title_i = rng.choice(len(TITLES), N, p=TITLE_P)
    channel = rng.choice(len(CHANNELS), N, p=CHANNEL_P)
    p_country = np.where(acct >= 0, country[a_idx], 0)
    phone = join("+1-555-", int_str(1000000 + rng.integers(0, 8999999, N)))
    uid = base62_ids("u_", np.arange(N), 8, scramble=1000003)

    # ------------------------------------------------------------------ journeys
    t_visit = t0
    eng = rng.random(N) < np.where(buyer, 0.5, 0.8)
    t_eng = np.where(eng, business_time(rng, t_visit + lognormal(rng, 5, 1.3, N)), NAN)
    t_eng = after(t_eng, t_visit)
    is_lead = eng & buyer & (rng.random(N) < 0.65)
    hand = eng & buyer & ~is_lead & (rng.random(N) < 0.2)
    t_lead = np.where(is_lead, business_time(rng, t_eng + lognormal(rng, 10, 1.1, N)), NAN)
    t_lead = after(t_lead, t_eng)
    is_mql = is_lead & (rng.random(N) < 0.55)
    t_mql = np.where(is_mql, business_time(rng, t_lead + lognormal(rng, 14, 1.0, N)), NAN)
    t_mql = after(t_mql, t_lead)
    t_hand = after(business_time(rng, t_eng + lognormal(rng, 8, 1.0, N)), t_eng)
    t_lead = np.where(hand, t_hand, t_lead)
    t_mql = np.where(hand, t_hand + 1, t_mql)
    is_lead, is_mql = is_lead | hand, is_mql | hand
    # non-buyers (competitors, tests) fill forms too: HubSpot calls them leads, the truth does not
    fake_lead = eng & (kind % 2 == 1) & (rng.random(N) < 0.5)
    t_fake = np.where(fake_lead, after(business_time(rng, t_eng + lognormal(rng, 10, 1.0, N)), t_eng), NAN)

    # handover
    t_touch = np.where(is_mql, t_mql + np.exp(rng.normal(np.log(18 * HOUR), 1.0, N)), NAN)
    t_touch = after(np.where(is_mql, business_time(rng, t_touch), NAN), t_mql)
    t_dec = after(np.where(is_mql, business_time(rng, t_touch + lognormal(rng, 2, 0.9, N)), NAN), t_touch)
    ro = rng.random(N)
    outcome = np.where(ro < 0.6, 0, np.where(ro < 0.85, 1, 2))        # accepted, rejected, recycled
    outcome = np.where(is_mql, outcome, -1)
    t_sal = np.where(outcome == 0, t_dec, NAN)
    # one champion per account takes the buying cycle to an opportunity
    sal_ok = ~np.isnan(t_sal) & (t_sal < HORIZON)
    order = np.lexsort((np.arange(N), np.where(sal_ok, t_sal, np.inf), acct))
    first_at_acct = np.zeros(N, bool)
    so = order[sal_ok[order]]
    if len(so):
        fa = np.r_[True, acct[so][1:] != acct[so][:-1]]
        first_at_acct[so[fa]] = True
    is_sql = first_at_acct & buyer & (rng.random(N) < 0.8)
    t_sql = np.where(is_sql, after(business_time(rng, t_sal + lognormal(rng, 5, 0.9, N)), t_sal), NAN)

    # opportunities (one per SQL person)
    opp_p = np.nonzero(is_sql & (t_sql < HORIZON))[0]
    O = len(opp_p)
    E = np.full((O, 8), NAN)
    cur = t_sql[opp_p].copy()
    E[:, 0] = cur
    alive = np.ones(O, bool)
    close_t = np.full(O, NAN)
    won = np.zeros(O, bool)
    cont = (0.93, 0.85, 0.95, 0.93, 0.95, 0.9, 0.9)
    for k in range(1, 8):
        d = lognormal(rng, 6, 0.9, O)
        go = alive & (rng.random(O) < cont[k - 1])
        died = alive & ~go
        close_t[died] = cur[died] + d[died]
        alive = go
        skip = alive & (rng.random(O) < 0.35) if k in (3, 4, 5) else np.zeros(O, bool)
        step = alive & ~skip
        # moved into working hours, a stage can land before the previous one: never let it
        cur = np.where(step, after(business_time(rng, cur + d), cur), cur)
        cur = np.maximum(cur, np.where(step, E[:, 0] + 60 * k, cur))
        E[step, k] = cur[step]
    d = lognormal(rng, 8, 0.9, O)
    close_t[alive] = cur[alive] + d[alive]
    won[alive] = rng.random(int(alive.sum())) < 0.65
    close_t = business_time(rng, close_t)
    last_entry = np.nanmax(E, axis=1)
    close_t = np.maximum(close_t, last_entry + 60)
    for k in range(8):                                          # beyond the horizon: not yet
        E[:, k] = np.where(E[:, k] < HORIZON, E[:, k], NAN)
    close_t = np.where(close_t < HORIZON, close_t, NAN)
    closed = ~np.isnan(close_t)
    won = won & closed
    opp_acct = acct[opp_p]
    o_emp = employees[opp_acct]
    seats = np.clip(np.round(o_emp * rng.uniform(0.05, 0.3, O)), 5, 2000)
    o_plan = plan[opp_acct]
    amount0 = np.round(seats * np.take(PLAN_SEAT_PRICE, o_plan) / 100, -2)
    amount1 = np.round(amount0 * rng.uniform(0.85, 1.15, O), -2)

    # post-sale: subscriptions (won opportunities)
    w_idx = np.nonzero(won)[0]
    S = len(w_idx)
    s_person = opp_p[w_idx]
    s_acct = opp_acct[w_idx]
    t_won = close_t[w_idx]
    t_onb = after(business_time(rng, t_won + lognormal(rng, 2, 0.6, S)), t_won)
    t_act = after(business_time(rng, t_onb + lognormal(rng, 21, 0.4, S)), t_onb)
    term = np.take(TERM_MONTHS, rng.choice(3, S, p=(0.4, 0.3, 0.3)))
    term_s = np.round(term * 30.4375 * DAY)
    s_seats = seats[w_idx]
    s_plan = o_plan[w_idx]
    has_exp = rng.random(S) < 0.3
    t_exp = np.where(has_exp, business_time(rng, t_act + rng.uniform(0.2, 0.9, S) * term_s), NAN)
    t_exp = after(t_exp, t_act)
    exp_seats = np.round(s_seats * rng.uniform(1.2, 1.8, S))
    renewals = []                                              # list of arrays of renewal times
    t_churn = np.full(S, NAN)
    past_due_churn = rng.random(S) < 0.3
    active = np.ones(S, bool)
    for k in range(1, 6):
        t_end = t_act + k * term_s
        churn_p = 0.15 if k == 1 else 0.1
        ch = active & (rng.random(S) < churn_p)
        t_churn = np.where(ch, t_end + np.where(past_due_churn, 14 * DAY, 0), t_churn)
        ren = active & ~ch
        renewals.append(np.where(ren, t_end, NAN))
        active = ren
    for arr_ in [t_onb, t_act, t_exp, t_churn] + renewals:
        arr_[~(arr_ < HORIZON)] = NAN
    # expansion only while subscribed
    t_exp = np.where(np.isnan(t_churn) | (t_exp < t_churn), t_exp, NAN)
    sub_end = np.where(np.isnan(t_churn), HORIZON, t_churn)

    # ------------------------------------------------------------------ truth timelines
    tl_p, tl_s, tl_t, tl_o, tl_ft, tl_ot = [], [], [], [], [], []

    def tl(stage, persons, times, outcome_=None):
        m = ~np.isnan(times) & (times < HORIZON)
        tl_p.append(persons[m]); tl_t.append(times[m]); tl_s.append(np.full(m.sum(), stage, object))
        tl_o.append(np.full(m.sum(), None, object) if outcome_ is None else outcome_[m])
        tl_ft.append(t_touch[persons[m]] if stage == "mql" else np.full(m.sum(), NAN))
        tl_ot.append(t_dec[persons[m]] if stage == "mql" else np.full(m.sum(), NAN))

    allp = np.arange(N)
    tl("visitor", allp, t_visit)
    tl("engaged", allp, t_eng)
    tl("lead", allp, t_lead)
    oc = np.take(np.array(["accepted", "rejected", "recycled", None], object), np.where(outcome >= 0, outcome, 3))
    oc = np.where(t_dec < HORIZON, oc, None)
    tl("mql", allp, t_mql, oc)
    tl("sal", allp, t_sal)
    tl("sql", opp_p, E[:, 0])
    tl("sqo", opp_p, E[:, 2])
    # agreement negotiation (phase 5) starts with the seller's proposal: the entry into
    # Proposal/Price Quote, the stage the governed funnel_stages calls "proposal and negotiation"
    tl("negotiation", opp_p, E[:, 6])
    tl("won", opp_p, np.where(won, close_t, NAN))
    tl("lost", opp_p, np.where(closed & ~won, close_t, NAN))
    tl("onboarding", s_person, t_onb)
    tl("active", s_person, t_act)
    tl("expanded", s_person, t_exp)
    for rt in renewals:
        tl("renewed", s_person, rt)
    tl("churned", s_person, t_churn)
    timeline = pa.table({
        "true_person_id": pa.array(np.concatenate(tl_p).astype(np.int64)),
        "funnel_stage": pa.array(np.concatenate(tl_s).tolist(), pa.string()),
        "entered_at": pa.array(np.concatenate(tl_t)),
        "outcome": pa.array(np.concatenate(tl_o).tolist(), pa.string()),
        "first_touch_at": pa.array(np.concatenate(tl_ft)),
        "outcome_at": pa.array(np.concatenate(tl_ot)),
    })
    handover = pa.table({
        "true_person_id": pa.array(np.nonzero(is_mql & (t_mql < HORIZON))[0]),
    })
    del handover

    # ------------------------------------------------------------------ Salesforce users
    n_sdr = 2 + N // 500
    n_ae = 2 + N // 700
    n_csm = 1 + N // 1200
    roles = (["Sales Development Rep"] * n_sdr + ["Account Executive"] * n_ae
             + ["Customer Success Manager"] * n_csm + ["Marketing Manager", "Marketing Operations", "VP Sales", "System Administrator"])
    U = len(roles)
    u_ids = base62_ids("0055g00000", np.arange(U), 8)
    u_first = take(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), U))
    u_last = take(LAST_NAMES, rng.integers(0, len(LAST_NAMES), U))
    u_email = pc.utf8_lower(join(u_first, ".", u_last, "@", COMPANY_DOMAIN))
    dept = ["Marketing" if "Marketing" in x else "Customer Success" if "Success" in x else "IT" if "Admin" in x else "Sales" for x in roles]
    b.add("salesforce.user", np.full(U, START - 30 * DAY), np.arange(U),
          name=join(u_first, " ", u_last), first_name=u_first, last_name=u_last, email=u_email,
          username=u_email, title=pa.array(roles), department=pa.array(dept),
          manager_id=pc.take(u_ids, pa.array(np.full(U, n_sdr + n_ae + n_csm + 2))),
          is_active=True, user_type="Standard", created_date=START - 30 * DAY, id=u_ids,
          _fivetran_deleted=False)
    sdr_of = lambda i: pc.take(u_ids, pa.array(np.asarray(i) % n_sdr))
    ae_of = lambda i: pc.take(u_ids, pa.array(n_sdr + np.asarray(i) % n_ae))

    # ------------------------------------------------------------------ HubSpot companies
    hs_company_id = 5000000000 + np.arange(A) * 37 + 11
    acc_has_eng = np.zeros(A, bool)
    first_eng_acct = np.full(A, np.inf)
    m = eng & (acct >= 0) & (t_eng < HORIZON)
    np.minimum.at(first_eng_acct, acct[m], t_eng[m])
    ca = np.nonzero(np.isfinite(first_eng_acct))[0]
    acc_has_eng[ca] = True
    b.add("hubspot.company", first_eng_acct[ca], ca, account=ca, id=hs_company_id[ca], is_deleted=False,
          property_name=pc.take(acc_name, pa.array(ca)), property_domain=pc.take(domain, pa.array(ca)),
          property_industry=take(INDUSTRIES, industry[ca]), property_numberofemployees=employees[ca],
          property_annualrevenue=revenue[ca], property_country=take(COUNTRIES, country[ca]),
          property_city=take(CITIES, country[ca]), property_createdate=first_eng_acct[ca])
    idents.append(dict(system="hubspot", table="company", rid=ca, person=np.full(len(ca), -1), account=ca,
                       record_id=int_str(hs_company_id[ca]), first=first_eng_acct[ca]))

    # ------------------------------------------------------------------ HubSpot contacts
    hs_ids = 100000 + np.arange(N) * 101                       # contact id per person
    cp = np.nonzero(eng & (t_eng < HORIZON))[0]                # persons with a contact
    n_dup = 0
    dup_p = cp[rng.random(len(cp)) < mess.duplicate]
    t_dup = business_time(rng, t_eng[dup_p] + lognormal(rng, 20, 0.8, len(dup_p)))
    keep = t_dup < HORIZON
    dup_p, t_dup = dup_p[keep], t_dup[keep]
    n_dup = len(dup_p)
    dup_ids = 90000000 + np.arange(n_dup) * 7
    dup_merged = rng.random(n_dup) < 0.6
    t_merge = np.where(dup_merged, after(business_time(rng, t_dup + lognormal(rng, 3, 0.8, n_dup)), t_dup), NAN)
    t_merge = np.where(t_merge < HORIZON, t_merge, NAN)
    dup_merged = ~np.isnan(t_merge)
    mc["duplicate"] += n_dup
    # change log: (person, t, lifecycle code, lead status code, merged-dup index)
    LC = {v: i for i, v in enumerate(V.HUBSPOT_LIFECYCLE_STAGES)}
    LS = {v: i for i, v in enumerate(V.HUBSPOT_LEAD_STATUSES)}
    LS_NULL = len(V.HUBSPOT_LEAD_STATUSES)
    ch_p, ch_t, ch_lc, ch_ls, ch_mv = [], [], [], [], []

    def change(persons, times, lc=-1, ls=-1, mv=None):
        m_ = ~np.isnan(times) & (times < HORIZON)
        ch_p.append(persons[m_]); ch_t.append(times[m_])
        ch_lc.append(np.broadcast_to(np.asarray(lc), len(times))[m_].astype(np.int64) if np.ndim(lc) else np.full(m_.sum(), lc))
        ch_ls.append(np.broadcast_to(np.asarray(ls), len(times))[m_].astype(np.int64) if np.ndim(ls) else np.full(m_.sum(), ls))
        ch_mv.append(np.full(m_.sum(), -1) if mv is None else mv[m_])

    create_lc = np.where(kind[cp] == 2, LC["other"], LC["subscriber"])
    change(cp, t_eng[cp], create_lc, LS_NULL)
    change(allp, t_lead, LC["lead"])
    change(allp, t_fake, LC["lead"])
    change(allp, t_mql, LC["marketingqualifiedlead"], LS["NEW"])
    change(allp, t_touch, -1, LS["ATTEMPTED_TO_CONTACT"])
    dec_ls = np.where(outcome == 0, np.where(rng.random(N) < 0.5, LS["CONNECTED"], LS["IN_PROGRESS"]),
                      np.where(outcome == 1, LS["UNQUALIFIED"], LS["BAD_TIMING"]))
    change(allp, t_dec, -1, dec_ls)
    change(opp_p, E[:, 0], LC["salesqualifiedlead"], LS["OPEN_DEAL"])
    change(opp_p, E[:, 2], LC["opportunity"])
    change(opp_p, np.where(won, close_t, NAN), LC["customer"])
    evang = rng.random(S) < 0.3
    change(s_person, np.where(evang, renewals[0], NAN), LC["evangelist"])
    change(dup_p, t_merge, -1, -1, np.arange(n_dup))
    cP = np.concatenate(ch_p); cT = np.concatenate(ch_t); cLC = np.concatenate(ch_lc)
    cLS = np.concatenate(ch_ls); cMV = np.concatenate(ch_mv)
    o_ = np.lexsort((np.arange(len(cP)), cT, cP))
    cP, cT, cLC, cLS, cMV = cP[o_], cT[o_], cLC[o_], cLS[o_], cMV[o_]
    # drop changes of persons that have no contact (should not happen) and before creation
    has_contact = np.zeros(N, bool); has_contact[cp] = True
    k_ = has_contact[cP] & (cT >= t_eng[cP])
    cP, cT, cLC, cLS, cMV = cP[k_], cT[k_], cLC[k_], cLS[k_], cMV[k_]

    def ffill(codes):
        idx = np.where(codes >= 0, np.arange(len(codes)), 0)
        idx = np.maximum.accumulate(idx)
        return codes[idx], idx

    fLC, _ = ffill(cLC)
    fLS, _ = ffill(cLS)
    fMV, _ = ffill(np.where(cMV >= 0, cMV, np.where(np.r_[True, cP[1:] != cP[:-1]], n_dup, -1)))
    # one version per (person, time): the last change at that instant
    lastv = np.r_[(cP[1:] != cP[:-1]) | (cT[1:] != cT[:-1]), True]
    vP, vT, vLC, vLS, vMV = cP[lastv], cT[lastv], fLC[lastv], fLS[lastv], fMV[lastv]
    mv_txt = pc.if_else(pa.array(vMV < n_dup),
                        join(int_str(dup_ids[np.minimum(vMV, max(n_dup - 1, 0))] if n_dup else np.zeros(len(vMV))), ":", int_str(np.round(np.nan_to_num(t_merge[np.minimum(vMV, max(n_dup - 1, 0))]) * 1000) if n_dup else np.zeros(len(vMV)))),
                        pa.scalar(None, pa.string()))
    hs_email_p, n_var = vary_email(rng, email, mess.email_variation)   # per contact (person)
    lc_vocab = V.HUBSPOT_LIFECYCLE_STAGES
    ls_vocab = V.HUBSPOT_LEAD_STATUSES + (None,)
    vA = acct[vP]
    b.add("hubspot.contact", vT, vP, person=vP, account=vA,
          id=hs_ids[vP], _fivetran_deleted=False,
          property_email=pc.take(hs_email_p, pa.array(vP)),
          property_firstname=pc.take(first, pa.array(vP)), property_lastname=pc.take(last, pa.array(vP)),
          property_company=pc.if_else(pa.array(vA >= 0), pc.take(acc_name, pa.array(np.maximum(vA, 0))), pa.scalar(None, pa.string())),
          property_jobtitle=take(TITLES, title_i[vP]), property_phone=pc.take(phone, pa.array(vP)),
          property_country=take(COUNTRIES, p_country[vP]),
          property_lifecyclestage=take(lc_vocab, vLC),
          property_hs_lead_status=pa.array([ls_vocab[i] for i in range(len(ls_vocab))], pa.string()).take(pa.array(vLS)),
          property_associatedcompanyid=np.where(vA >= 0, hs_company_id[np.maximum(vA, 0)], NAN),
          property_hs_analytics_source=take(HS_SOURCE, channel[vP]),
          property_hs_calculated_merged_vids=mv_txt, property_createdate=t_eng[vP])
    idents.append(dict(system="hubspot", table="contact", rid=cp, person=cp, account=acct[cp],
                       record_id=int_str(hs_ids[cp]), first=t_eng[cp]))
    # duplicate contacts: created later, some merged into the original (deleted)
    if n_dup:
        dup_rid = N + np.arange(n_dup)
        dmail, _ = vary_email(rng, pc.take(email, pa.array(dup_p)), 0.7)
        common = dict(id=dup_ids, property_email=dmail,
                      property_firstname=pc.take(first, pa.array(dup_p)), property_lastname=pc.take(last, pa.array(dup_p)),
                      property_company=None, property_lifecyclestage="subscriber", property_hs_lead_status=None,
                      property_associatedcompanyid=np.where(acct[dup_p] >= 0, hs_company_id[np.maximum(acct[dup_p], 0)], NAN),
                      property_hs_analytics_source="OFFLINE", property_createdate=t_dup)
        b.add("hubspot.contact", t_dup, dup_rid, person=dup_p, account=acct[dup_p], _fivetran_deleted=False, **common)
        mi = np.nonzero(dup_merged)[0]
        b.add("hubspot.contact", t_merge[mi], dup_rid[mi], person=dup_p[mi], account=acct[dup_p[mi]],
              _fivetran_deleted=True, **{k: (v[mi] if isinstance(v, np.ndarray) else (pc.take(v, pa.array(mi)) if isinstance(v, pa.Array) else v)) for k, v in common.items()})
        idents.append(dict(system="hubspot", table="contact", rid=dup_rid, person=dup_p, account=acct[dup_p],
                           record_id=int_str(dup_ids), first=t_dup))
        # the duplicate's own property history (created as subscriber)
        b.add("hubspot.contact_property_history", t_dup, np.arange(n_dup) + 10**9, person=dup_p, account=acct[dup_p],
              contact_id=dup_ids, name="lifecyclestage", value="subscriber", timestamp=t_dup, source="IMPORT", source_id="import-2291")
    # property history rows: every lifecyclestage / hs_lead_status change
    src_lc = np.where(cLC >= 0, 1, 0)
    ph_lc = np.nonzero(cLC >= 0)[0]
    ph_ls = np.nonzero((cLS >= 0) & (cLS < LS_NULL))[0]
    for nm, sel, vals in (("lifecyclestage", ph_lc, take(lc_vocab, cLC[ph_lc])),
                          ("hs_lead_status", ph_ls, take(V.HUBSPOT_LEAD_STATUSES, cLS[ph_ls]))):
        src = np.where(rng.random(len(sel)) < 0.7, 0, 1)
        b.add("hubspot.contact_property_history", cT[sel], sel + (0 if nm == "lifecyclestage" else 5 * 10**8),
              person=cP[sel], account=acct[cP[sel]], contact_id=hs_ids[cP[sel]], name=nm, value=vals,
              timestamp=cT[sel], source=take(("AUTOMATION_PLATFORM", "CRM_UI"), src),
              source_id=take(("workflow-88123", "userId:311"), src))
    del src_lc

    # ------------------------------------------------------------------ forms + email
    form_ids = tuple(f"5f1c{i:04d}-9a2b-4c3d-8e7f-{(i * 7919) % 10**12:012d}" for i in range(len(FORMS)))
    fp, ft, fk = [], [], []
    fp.append(cp); ft.append(t_eng[cp]); fk.append(np.where(rng.random(len(cp)) < 0.6, 0, 2))  # newsletter / webinar
    lp = np.nonzero(is_lead & ~hand & (t_lead < HORIZON))[0]
    fp.append(lp); ft.append(t_lead[lp]); fk.append(rng.choice([1, 2, 3], len(lp)))
    hp = np.nonzero(hand & (t_mql < HORIZON))[0]
    fp.append(hp); ft.append(t_lead[hp]); fk.append(np.where(rng.random(len(hp)) < 0.8, 4, 5))
    fl = np.nonzero(fake_lead & (t_fake < HORIZON))[0]
    fp.append(fl); ft.append(t_fake[fl]); fk.append(np.full(len(fl), 1))
    xp = np.nonzero(is_lead & (t_lead < HORIZON))[0]
    nx = rng.poisson(0.6, len(xp))
    xpp = np.repeat(xp, nx)
    xt = business_time(rng, t_lead[xpp] + lognormal(rng, 20, 1.0, len(xpp)))
    xt = after(xt, t_lead[xpp])
    fp.append(xpp); ft.append(xt); fk.append(rng.choice([1, 2, 3], len(xpp)))
    F_p = np.concatenate(fp); F_t = np.concatenate(ft); F_k = np.concatenate(fk)
    k_ = F_t < HORIZON
    F_p, F_t, F_k = F_p[k_], F_t[k_], F_k[k_]
    NF = len(F_p)
    conv_ids = uuids(rng, NF)
    idents.append(dict(system="hubspot", table="contact_form_submission", rid=np.arange(NF), person=F_p, account=acct[F_p],
                       record_id=conv_ids, first=F_t))
    b.add("hubspot.contact_form_submission", F_t, np.arange(NF), person=F_p, account=acct[F_p],
          conversion_id=conv_ids, contact_id=hs_ids[F_p], form_id=take(form_ids, F_k), timestamp=F_t,
          page_id=int_str(30000000 + F_k * 17), page_url=join(SITE, take([f[2] for f in FORMS], F_k)),
          portal_id=PORTAL_ID, title=take([f[1] for f in FORMS], F_k))

    # email campaigns: twice a week, Tuesday and Thursday mornings
    days = np.arange(START // DAY, HORIZON // DAY)
    wd = (days + 3) % 7
    send_days = days[(wd == 1) | (wd == 3)]
    C = len(send_days)
    c_t = send_days * DAY + 9 * HOUR + rng.integers(0, 3 * HOUR, C)
    c_ids = 4100000 + np.arange(C) * 13
    c_kind = rng.choice(3, C, p=(0.5, 0.3, 0.2))
    c_names = join(take(("Newsletter", "Nurture: RevOps series", "Product update"), c_kind), " #", int_str(np.arange(C) + 1))
    b.add("hubspot.email_campaign", c_t - DAY, np.arange(C), id=c_ids, app_id=APP_ID, app_name="Batch",
          content_id=c_ids * 3 + 1, name=c_names, subject=join(c_names, ": what's new"),
          type="BATCH_EMAIL", sub_type=take(("newsletter", "nurture", "product"), c_kind),
          num_included=np.zeros(C), num_queued=np.zeros(C))
    # recipients: contacts (not internal) receive ~35% of campaigns sent after they subscribed
    rp = cp[kind[cp] != 2]
    first_c = np.searchsorted(c_t, t_eng[rp])
    k_c = C - first_c
    pair_p = np.repeat(rp, k_c)
    start_off = np.repeat(first_c - np.cumsum(np.r_[0, k_c[:-1]]), k_c)
    pair_c = np.arange(len(pair_p)) + start_off
    keep = rng.random(len(pair_p)) < 0.3
    pair_p, pair_c = pair_p[keep], pair_c[keep]
    nS = len(pair_p)
    t_sent = c_t[pair_c] + rng.integers(0, 2 * HOUR, nS)
    delivered = rng.random(nS) < 0.97
    opened = delivered & (rng.random(nS) < 0.3)
    clicked = opened & (rng.random(nS) < 0.25)
    t_deliv = t_sent + rng.integers(1, 30, nS)
    t_open = t_deliv + np.exp(rng.normal(np.log(3 * HOUR), 1.2, nS))
    t_click = t_open + rng.integers(5, 600, nS)
    ev_p = np.concatenate([pair_p, pair_p, pair_p[opened], pair_p[clicked]])
    ev_c = np.concatenate([pair_c, pair_c, pair_c[opened], pair_c[clicked]])
    ev_t = np.concatenate([t_sent, t_deliv, t_open[opened], t_click[clicked]]).astype(np.float64)
    ev_k = np.concatenate([np.zeros(nS, np.int64), np.where(delivered, 1, 4), np.full(opened.sum(), 2), np.full(clicked.sum(), 3)])
    ev_sent = np.concatenate([t_sent, t_sent, t_sent[opened], t_sent[clicked]]).astype(np.float64)
    k_ = ev_t < HORIZON
    ev_p, ev_c, ev_t, ev_k, ev_sent = ev_p[k_], ev_c[k_], ev_t[k_], ev_k[k_], ev_sent[k_]
    NE = len(ev_p)
    sent_ids = uuids(rng, nS)
    pair_idx = np.concatenate([np.arange(nS), np.arange(nS), np.nonzero(opened)[0], np.nonzero(clicked)[0]])[k_]
    ee_ids = uuids(rng, NE)
    idents.append(dict(system="hubspot", table="email_event", rid=np.arange(NE), person=ev_p, account=acct[ev_p],
                       record_id=ee_ids, first=ev_t))
    b.add("hubspot.email_event", ev_t, np.arange(NE), person=ev_p, account=acct[ev_p],
          id=ee_ids, app_id=APP_ID, created=ev_t, email_campaign_id=c_ids[ev_c], portal_id=PORTAL_ID,
          recipient=pc.take(hs_email_p, pa.array(ev_p)), sent_by_id=pc.take(sent_ids, pa.array(pair_idx)),
          sent_by_created=ev_sent, type=take(V.HUBSPOT_EMAIL_EVENT_TYPES, ev_k), filtered_event=False)
    clk = ev_k == 3
    clk_p, clk_t, clk_c = ev_p[clk], ev_t[clk], ev_c[clk]
    del pair_p, pair_c, keep, t_sent, delivered, opened, clicked, t_deliv, t_open, t_click
    del ev_p, ev_c, ev_t, ev_k, ev_sent, sent_ids, pair_idx, start_off, ee_ids, clk

    # ------------------------------------------------------------------ web (Segment)
    depth = (1.5 + 7 * eng + 5 * is_lead + 7 * is_mql + 10 * is_sql)
    n_pages = rng.poisson(depth)
    cust = np.zeros(N, bool); cust[s_person] = True
    last_seen = np.nanmax(np.vstack([t_visit, t_eng, t_lead, t_mql, t_dec, t_sql]), axis=0)
    last_seen = last_seen + lognormal(rng, 12, 1.0, N)
    last_seen = np.where(cust, HORIZON, last_seen)
    pg_p = np.repeat(allp, n_pages)
    pg_t = t_visit[pg_p] + rng.random(len(pg_p)) * (np.minimum(last_seen, HORIZON) - t_visit)[pg_p]
    pg_t = business_time(rng, pg_t, weekend_keep=0.3)
    pg_t = np.maximum(pg_t, t_visit[pg_p] + 1)
    pg_kind = np.zeros(len(pg_p), np.int64)                  # 0 browse 1 first 2 form page 3 email click
    P_p = np.concatenate([allp, pg_p, F_p, clk_p])
    P_t = np.concatenate([t_visit, pg_t, F_t - 40, clk_t + 5])
    P_k = np.concatenate([np.ones(N, np.int64), pg_kind, np.full(NF, 2), np.full(len(clk_p), 3)])
    path_i = rng.choice(len(PATHS), len(P_p), p=PATH_P / PATH_P.sum())
    path_i[P_k == 2] = np.searchsorted(np.array(PATHS), np.array([f[2] for f in FORMS]))[0]  # placeholder, fixed below
    form_path_idx = np.array([PATHS.index(f[2]) for f in FORMS])
    path_i[P_k == 2] = form_path_idx[F_k]
    k_ = P_t < HORIZON
    P_p, P_t, P_k, path_i = P_p[k_], P_t[k_], P_k[k_], path_i[k_]
    mql_pricing = np.nonzero(is_mql & ~hand & (t_mql < HORIZON))[0]  # scored MQLs looked at pricing
    P_p = np.concatenate([P_p, mql_pricing]); P_t = np.concatenate([P_t, t_mql[mql_pricing] - HOUR])
    P_k = np.concatenate([P_k, np.zeros(len(mql_pricing), np.int64)])
    path_i = np.concatenate([path_i, np.full(len(mql_pricing), PATHS.index("/pricing"))])
    P_t = np.maximum(P_t, t_visit[P_p])
    NP = len(P_p)
    # devices: a second anonymous id for a quarter of the identified persons
    dev2 = eng & (rng.random(N) < 0.25)
    t_dev2 = np.where(dev2, t_eng + lognormal(rng, 15, 1.0, N), NAN)
    use2 = dev2[P_p] & (P_t >= t_dev2[P_p]) & (rng.random(NP) < 0.5) & (P_k != 2)
    anon0 = uuids(rng, N)
    anon1 = uuids(rng, N)
    anon = pc.if_else(pa.array(use2), pc.take(anon1, pa.array(P_p)), pc.take(anon0, pa.array(P_p)))
    known = (~use2 & (P_t >= np.nan_to_num(t_eng[P_p], nan=np.inf))) | use2
    p_uid = pc.if_else(pa.array(known), pc.take(uid, pa.array(P_p)), pa.scalar(None, pa.string()))
    # entry pages carry the channel: first visit = person's channel; later entries at random
    entry = (P_k == 1) | (rng.random(NP) < 0.25) | (P_k == 3)
    ch = np.where(P_k == 1, channel[P_p], rng.choice(len(CHANNELS), NP, p=(0.3, 0.15, 0.08, 0.4, 0.07)))
    ch = np.where(P_k == 3, 9, ch)                              # email click
    ch = np.where(entry, ch, -1)
    ad_c = np.full(NP, -1)
    srch = ch == 1
    soc = ch == 2
    ad_c[srch] = np.where(rng.random(srch.sum()) < 0.8, rng.integers(0, 5, srch.sum()), rng.integers(5, 7, srch.sum()))
    ad_c[soc] = np.where(rng.random(soc.sum()) < 0.65, rng.integers(7, 10, soc.sum()), rng.integers(10, 12, soc.sum()))
    AD = np.array(AD_CAMPAIGNS, object)
    isad = ad_c >= 0
    utm_src = np.full(NP, None, object); utm_med = np.full(NP, None, object); utm_cmp = np.full(NP, None, object)
    utm_src[isad] = AD[ad_c[isad], 1]; utm_med[isad] = AD[ad_c[isad], 2]; utm_cmp[isad] = AD[ad_c[isad], 3]
    em = ch == 9
    utm_src[em] = "hubspot"; utm_med[em] = "email"
    click_c = clk_c[(clk_t + 5 < HORIZON)]
    utm_cmp[em] = np.asarray(c_names.to_numpy(zero_copy_only=False), object)[click_c]
    ref_i = np.where(ch == 0, rng.integers(0, 2, NP), np.where(ch == 4, rng.integers(2, 6, NP), -1))
    ref = np.where(ref_i >= 0, np.asarray(REFERRERS, object)[np.maximum(ref_i, 0)], None)
    ref = np.where(entry, ref, SITE + "/")
    ref = np.where(isad & (ch == 1), "https://www.google.com/", ref)
    utm_term = np.where(srch, "revenue operations software", None)
    utm_content = np.where(isad, "v" + (rng.integers(1, 4, NP)).astype(str).astype(object), None)
    qs = pc.if_else(pa.array(isad | em),
                    join("?utm_source=", pa.array(utm_src, pa.string()), "&utm_medium=", pa.array(utm_med, pa.string()),
                         "&utm_campaign=", pc.replace_substring(pa.array(utm_cmp, pa.string()), " ", "%20")),
                    pa.scalar("", pa.string()))
    path_a = take(PATHS, path_i)
    ip = join(int_str(rng.integers(11, 220, N)), ".", int_str(rng.integers(0, 255, N)), ".",
              int_str(rng.integers(0, 255, N)), ".", int_str(rng.integers(1, 254, N)))
    b.add("segment.pages", P_t, np.arange(NP), person=P_p, account=acct[P_p],
          id=uuids(rng, NP), anonymous_id=anon, user_id=p_uid, timestamp=P_t,
          url=join(SITE, path_a, qs), path=path_a, title=take(PATH_TITLES, path_i),
          referrer=pa.array(ref.astype(object), pa.string()), utm_source=pa.array(utm_src, pa.string()),
          utm_medium=pa.array(utm_med, pa.string()), utm_campaign=pa.array(utm_cmp, pa.string()),
          utm_term=pa.array(utm_term.astype(object), pa.string()), utm_content=pa.array(utm_content.astype(object), pa.string()),
          context_ip=pc.take(ip, pa.array(P_p)))
    first_ad = np.full(N, -1)
    fa_mask = (P_k == 1) & isad
    first_ad[P_p[fa_mask]] = ad_c[fa_mask]
    ad_hits_c = ad_c[isad]
    ad_hits_d = (P_t[isad] // DAY).astype(np.int64)
    del anon, p_uid, known, entry, ch, utm_src, utm_med, utm_cmp, utm_term, utm_content, ref, ref_i, qs, path_a
    del path_i, use2, pg_p, pg_t, pg_kind, P_k, P_p, P_t, ad_c, isad, srch, soc, em, fa_mask
    # identifies: at subscription (device 1) and at the first page of the second device
    seg_mail, _ = vary_email(rng, email, mess.email_variation)
    i2 = np.nonzero(dev2 & (t_dev2 < HORIZON))[0]
    I_p = np.concatenate([cp, i2]); I_t = np.concatenate([t_eng[cp], t_dev2[i2]])
    I_anon = pa.concat_arrays([pc.take(anon0, pa.array(cp)), pc.take(anon1, pa.array(i2))])
    NI = len(I_p)
    idf_ids = uuids(rng, NI)
    idents.append(dict(system="segment", table="identifies", rid=np.arange(NI), person=I_p, account=acct[I_p],
                       record_id=idf_ids, first=I_t))
    b.add("segment.identifies", I_t, np.arange(NI), person=I_p, account=acct[I_p], id=idf_ids,
          anonymous_id=I_anon, user_id=pc.take(uid, pa.array(I_p)), email=pc.take(seg_mail, pa.array(I_p)),
          name=pc.take(full_name, pa.array(I_p)),
          company=pc.if_else(pa.array(acct[I_p] >= 0), pc.take(acc_name, pa.array(np.maximum(acct[I_p], 0))), pa.scalar(None, pa.string())),
          timestamp=I_t, context_page_url=SITE + "/blog/revenue-operations-101", context_page_referrer=SITE + "/")
    # ------------------------------------------------------------------ ads (daily spend)
    n_ad = len(AD_CAMPAIGNS)
    day0 = START // DAY
    nd = int((HORIZON - START) // DAY)
    tracked = np.zeros((n_ad, nd))
    np.add.at(tracked, (ad_hits_c, ad_hits_d - day0), 1)
    base = rng.uniform(0.5, 3.0, n_ad) * max(scale, 0.01) * 3
    dgrid = np.arange(nd) + day0
    wdg = ((dgrid + 3) % 7 < 5) * 0.7 + 0.3
    extra = rng.poisson(base[:, None] * wdg[None, :])
    clicks = tracked + extra
    ctr = rng.uniform(0.006, 0.04, n_ad)
    impressions = np.round(clicks / ctr[:, None] * rng.uniform(0.8, 1.2, clicks.shape))
    cpc = rng.uniform(1.5, 12.0, n_ad)
    spend = np.round(clicks * cpc[:, None] * rng.uniform(0.8, 1.2, clicks.shape), 2)
    ci, di = np.nonzero(impressions > 0)
    D_t = (dgrid[di] * DAY).astype(np.float64)
    arrive = D_t + DAY + 4 * HOUR
    ad_ids = np.array([str(880000000 + 1000 * i + 17) for i in range(n_ad)], object)
    common_ad = dict(date_day=D_t, platform=pa.array(AD[ci, 0], pa.string()),
                     account_id=pa.array([AD_ACCOUNT[p] for p in AD[ci, 0]], pa.string()),
                     campaign_id=pa.array(ad_ids[ci], pa.string()), campaign_name=pa.array(AD[ci, 3], pa.string()),
                     clicks=clicks[ci, di], impressions=impressions[ci, di], utm_source=pa.array(AD[ci, 1], pa.string()),
                     utm_medium=pa.array(AD[ci, 2], pa.string()), utm_campaign=pa.array(AD[ci, 3], pa.string()))
    n_rows = len(ci)
    ad_rid = ci * nd + di
    b.add("ads.campaign_spend", arrive, ad_rid, spend=spend[ci, di], **common_ad)
    # platforms restate recent days: a second version a day later (same key, newer sync)
    rs = np.nonzero(rng.random(n_rows) < 0.1)[0]
    b.add("ads.campaign_spend", arrive[rs] + DAY, ad_rid[rs], spend=np.round(spend[ci, di][rs] * rng.uniform(0.95, 1.05, len(rs)), 2),
          **{k: (v[rs] if isinstance(v, np.ndarray) else pc.take(v, pa.array(rs))) for k, v in common_ad.items()})

    # ------------------------------------------------------------------ Salesforce accounts
    first_mql_acct = np.full(A, np.inf)
    m = is_mql & (acct >= 0) & (t_mql < HORIZON)
    np.minimum.at(first_mql_acct, acct[m], t_mql[m])
    sa = np.nonzero(np.isfinite(first_mql_acct))[0]
    sf_acc_ids = base62_ids("0015g00000", np.arange(A), 8, scramble=2654435761)
    t_sfa = first_mql_acct[sa] - HOUR
    owner_ae = ae_of(sa)
    acc_cols = dict(name=pc.take(acc_name, pa.array(sa)), industry=take(INDUSTRIES, industry[sa]),
                    number_of_employees=employees[sa], annual_revenue=revenue[sa],
                    billing_city=take(CITIES, country[sa]), billing_country=take(COUNTRIES, country[sa]),
                    website=join("https://www.", pc.take(domain, pa.array(sa))),
                    account_source=take(SF_LEAD_SOURCE, rng.integers(0, 5, len(sa))), owner_id=owner_ae,
                    created_date=t_sfa, id=pc.take(sf_acc_ids, pa.array(sa)))
    b.add("salesforce.account", t_sfa, sa, account=sa, type="Prospect", is_deleted=False, **acc_cols)
    acc_won = np.full(A, NAN); acc_won[s_acct] = t_won
    acc_churn = np.full(A, NAN); acc_churn[s_acct] = t_churn

    def sub_cols(cols, idx):
        return {k: (v[idx] if isinstance(v, np.ndarray) else (pc.take(v, pa.array(idx)) if isinstance(v, pa.Array) else v)) for k, v in cols.items()}
    wsel = np.nonzero(~np.isnan(acc_won[sa]) & (acc_won[sa] < HORIZON))[0]
    b.add("salesforce.account", acc_won[sa][wsel], sa[wsel], account=sa[wsel], type="Customer - Direct", is_deleted=False, **sub_cols(acc_cols, wsel))
    csel = np.nonzero(~np.isnan(acc_churn[sa]))[0]
    b.add("salesforce.account", acc_churn[sa][csel], sa[csel], account=sa[csel], type="Former Customer", is_deleted=False, **sub_cols(acc_cols, csel))
    idents.append(dict(system="salesforce", table="account", rid=sa, person=np.full(len(sa), -1), account=sa,
                       record_id=pc.take(sf_acc_ids, pa.array(sa)), first=t_sfa))
    # known competitors are in the CRM before the story starts, typed Competitor: the only
    # mark that tells the warehouse their people are not leads (seed lead_exclusions)
    ka = np.nonzero(competitor)[0]
    t_ka = np.full(len(ka), float(START - 30 * DAY))
    b.add("salesforce.account", t_ka, ka, account=ka, type="Competitor", is_deleted=False,
          name=pc.take(acc_name, pa.array(ka)), industry=take(INDUSTRIES, industry[ka]),
          number_of_employees=employees[ka], annual_revenue=revenue[ka],
          billing_city=take(CITIES, country[ka]), billing_country=take(COUNTRIES, country[ka]),
          website=join("https://www.", pc.take(domain, pa.array(ka))), account_source="Other",
          owner_id=ae_of(ka), created_date=t_ka, id=pc.take(sf_acc_ids, pa.array(ka)))
    idents.append(dict(system="salesforce", table="account", rid=ka, person=np.full(len(ka), -1), account=ka,
                       record_id=pc.take(sf_acc_ids, pa.array(ka)), first=t_ka))
    # duplicate accounts (merged into the original with master_record_id, or left as is)
    dsa = sa[rng.random(len(sa)) < mess.duplicate]
    t_dsa = business_time(rng, first_mql_acct[dsa] + lognormal(rng, 15, 0.8, len(dsa)))
    kd = t_dsa < HORIZON
    dsa, t_dsa = dsa[kd], t_dsa[kd]
    if len(dsa):
        mc["duplicate"] += len(dsa)
        d_ids = base62_ids("0015g00001", np.arange(len(dsa)), 8, scramble=40503)
        dcols = dict(name=join(pc.take(acc_name, pa.array(dsa)), " Inc."), industry=None, number_of_employees=None,
                     annual_revenue=None, billing_city=None, billing_country=take(COUNTRIES, country[dsa]),
                     website=join("http://", pc.take(domain, pa.array(dsa))), account_source="Other",
                     owner_id=sdr_of(dsa), created_date=t_dsa, id=d_ids)
        b.add("salesforce.account", t_dsa, A + np.arange(len(dsa)), account=dsa, type="Prospect", is_deleted=False, **dcols)
        dm = np.nonzero(rng.random(len(dsa)) < 0.6)[0]
        t_dm = after(business_time(rng, t_dsa[dm] + lognormal(rng, 4, 0.8, len(dm))), t_dsa[dm])
        kk = t_dm < HORIZON
        dm, t_dm = dm[kk], t_dm[kk]
        b.add("salesforce.account", t_dm, A + dm, account=dsa[dm], type="Prospect", is_deleted=True,
              master_record_id=pc.take(sf_acc_ids, pa.array(dsa[dm])), **sub_cols(dcols, dm))
        idents.append(dict(system="salesforce", table="account", rid=A + np.arange(len(dsa)), person=np.full(len(dsa), -1),
                           account=dsa, record_id=d_ids, first=t_dsa))

    # ------------------------------------------------------------------ Salesforce leads
    lq = np.nonzero(is_mql & (t_mql < HORIZON))[0]
    L = len(lq)
    lead_ids = base62_ids("00Q5g00000", np.arange(N), 8, scramble=2246822519)
    contact_ids = base62_ids("0035g00000", np.arange(N), 8, scramble=3266489917)
    opp_ids = base62_ids("0065g00000", np.arange(max(O, 1)), 8, scramble=668265263)
    sf_mail, nv = vary_email(rng, email, mess.email_variation)
    opp_of_person = np.full(N, -1); opp_of_person[opp_p] = np.arange(O)
    lcols = dict(id=pc.take(lead_ids, pa.array(lq)), first_name=pc.take(first, pa.array(lq)),
                 last_name=pc.take(last, pa.array(lq)), name=pc.take(full_name, pa.array(lq)),
                 email=pc.take(sf_mail, pa.array(lq)), title=take(TITLES, title_i[lq]),
                 company=pc.take(acc_name, pa.array(np.maximum(acct[lq], 0))),
                 website=pc.take(domain, pa.array(np.maximum(acct[lq], 0))),
                 industry=take(INDUSTRIES, industry[np.maximum(acct[lq], 0)]),
                 number_of_employees=employees[np.maximum(acct[lq], 0)],
                 country=take(COUNTRIES, p_country[lq]), phone=pc.take(phone, pa.array(lq)),
                 lead_source=take(SF_LEAD_SOURCE, channel[lq]), owner_id=sdr_of(lq),
                 created_date=t_mql[lq], is_deleted=False)
    lA = acct[lq]
    b.add("salesforce.lead", t_mql[lq], lq, person=lq, account=lA, status="Open - Not Contacted", is_converted=False, **lcols)
    # the first touch is a task (below); the status records the decision: sales sets
    # Working - Contacted when it accepts the lead (the governed handover_statuses)
    for oc_, st in ((0, "Working - Contacted"), (1, "Closed - Not Converted"), (2, "Recycled")):
        s_ = np.nonzero((outcome[lq] == oc_) & (t_dec[lq] < HORIZON))[0]
        b.add("salesforce.lead", t_dec[lq][s_], lq[s_], person=lq[s_], account=lA[s_], status=st, is_converted=False, **sub_cols(lcols, s_))
    s_ = np.nonzero(opp_of_person[lq] >= 0)[0]
    cv = lq[s_]
    b.add("salesforce.lead", t_sql[cv], cv, person=cv, account=acct[cv], status="Closed - Converted", is_converted=True,
          converted_date=np.floor(t_sql[cv] / DAY) * DAY, converted_account_id=pc.take(sf_acc_ids, pa.array(acct[cv])),
          converted_contact_id=pc.take(contact_ids, pa.array(cv)),
          converted_opportunity_id=pc.take(opp_ids, pa.array(opp_of_person[cv])), **sub_cols(lcols, s_))
    idents.append(dict(system="salesforce", table="lead", rid=lq, person=lq, account=lA,
                       record_id=pc.take(lead_ids, pa.array(lq)), first=t_mql[lq]))
    # duplicate leads (a second form fill creates a second lead), most merged
    dl = lq[rng.random(L) < mess.duplicate]
    t_dl = business_time(rng, t_mql[dl] + lognormal(rng, 10, 0.8, len(dl)))
    kd = t_dl < HORIZON
    dl, t_dl = dl[kd], t_dl[kd]
    if len(dl):
        mc["duplicate"] += len(dl)
        dl_ids = base62_ids("00Q5g00001", np.arange(len(dl)), 8, scramble=40503)
        dmail, _ = vary_email(rng, pc.take(email, pa.array(dl)), 0.7)
        dcols = dict(id=dl_ids, first_name=pc.take(first, pa.array(dl)), last_name=pc.take(last, pa.array(dl)),
                     name=pc.take(full_name, pa.array(dl)), email=dmail, title=None,
                     company=pc.take(acc_name, pa.array(np.maximum(acct[dl], 0))), lead_source="Web",
                     owner_id=sdr_of(dl), created_date=t_dl, status="Open - Not Contacted", is_converted=False)
        b.add("salesforce.lead", t_dl, N + np.arange(len(dl)), person=dl, account=acct[dl], is_deleted=False, **dcols)
        dm = np.nonzero(rng.random(len(dl)) < 0.6)[0]
        t_dm = after(business_time(rng, t_dl[dm] + lognormal(rng, 3, 0.8, len(dm))), t_dl[dm])
        kk = t_dm < HORIZON
        dm, t_dm = dm[kk], t_dm[kk]
        b.add("salesforce.lead", t_dm, N + dm, person=dl[dm], account=acct[dl[dm]], is_deleted=True,
              master_record_id=pc.take(lead_ids, pa.array(dl[dm])), **sub_cols(dcols, dm))
        idents.append(dict(system="salesforce", table="lead", rid=N + np.arange(len(dl)), person=dl, account=acct[dl],
                           record_id=dl_ids, first=t_dl))

    # ------------------------------------------------------------------ contacts, opportunities
    b.add("salesforce.contact", t_sql[opp_p], opp_p, person=opp_p, account=opp_acct,
          id=pc.take(contact_ids, pa.array(opp_p)), account_id=pc.take(sf_acc_ids, pa.array(opp_acct)),
          first_name=pc.take(first, pa.array(opp_p)), last_name=pc.take(last, pa.array(opp_p)),
          name=pc.take(full_name, pa.array(opp_p)), email=pc.take(sf_mail, pa.array(opp_p)),
          title=take(TITLES, title_i[opp_p]), phone=pc.take(phone, pa.array(opp_p)),
          mailing_country=take(COUNTRIES, p_country[opp_p]), lead_source=take(SF_LEAD_SOURCE, channel[opp_p]),
          owner_id=ae_of(opp_acct), is_deleted=False, created_date=t_sql[opp_p])
    idents.append(dict(system="salesforce", table="contact", rid=opp_p, person=opp_p, account=opp_acct,
                       record_id=pc.take(contact_ids, pa.array(opp_p)), first=t_sql[opp_p]))
    # campaigns (Salesforce): ad campaigns, webinars, web forms, newsletter
    camp_names = [f"Paid - {a[3]}" for a in AD_CAMPAIGNS] + ["Website - Demo Request", "Website - Content Download",
                                                              "Newsletter", "Webinar series", "Partner referrals",
                                                              "Organic search", "Direct traffic"]
    camp_types = ["Advertisement"] * n_ad + ["Website", "Content", "Email", "Webinar", "Partners", "Website", "Website"]
    NC = len(camp_names)
    camp_ids = base62_ids("7015g00000", np.arange(NC), 8, scramble=97)
    b.add("salesforce.campaign", np.full(NC, START - 14 * DAY), np.arange(NC), id=camp_ids, name=pa.array(camp_names),
          type=pa.array(camp_types), status="Planned", start_date=float(START), end_date=float(HORIZON + 180 * DAY),
          is_active=False, budgeted_cost=np.round(rng.uniform(5e3, 6e4, NC), -2), actual_cost=np.zeros(NC),
          owner_id=pc.take(u_ids, pa.array(np.full(NC, n_sdr + n_ae + n_csm))), is_deleted=False, created_date=float(START - 14 * DAY))
    b.add("salesforce.campaign", np.full(NC, float(START)), np.arange(NC), id=camp_ids, name=pa.array(camp_names),
          type=pa.array(camp_types), status="In Progress", start_date=float(START), end_date=float(HORIZON + 180 * DAY),
          is_active=True, budgeted_cost=np.round(rng.uniform(5e3, 6e4, NC), -2), actual_cost=np.zeros(NC),
          owner_id=pc.take(u_ids, pa.array(np.full(NC, n_sdr + n_ae + n_csm))), is_deleted=False, created_date=float(START - 14 * DAY))
    # primary campaign of each person: their first paid touch, else web form / channel
    pc_idx = np.where(first_ad >= 0, first_ad,
                      np.where(hand, n_ad, np.where(channel == 4, n_ad + 4, np.where(channel == 0, n_ad + 5, n_ad + 1))))
    # campaign members: every lead, in its primary campaign (and the newsletter when subscribed that way)
    cm_p = lq
    cm_c = pc_idx[lq]
    cm_ids = base62_ids("00v5g00000", np.arange(N), 8, scramble=12289)
    cmc = dict(id=pc.take(cm_ids, pa.array(cm_p)), campaign_id=pc.take(camp_ids, pa.array(cm_c)),
               lead_id=pc.take(lead_ids, pa.array(cm_p)), status="Responded", has_responded=True,
               first_responded_date=np.floor(t_mql[cm_p] / DAY) * DAY, is_deleted=False, created_date=t_mql[cm_p])
    b.add("salesforce.campaign_member", t_mql[cm_p], cm_p, person=cm_p, account=acct[cm_p], **cmc)
    s_ = np.nonzero(opp_of_person[cm_p] >= 0)[0]
    b.add("salesforce.campaign_member", t_sql[cm_p[s_]], cm_p[s_], person=cm_p[s_], account=acct[cm_p[s_]],
          contact_id=pc.take(contact_ids, pa.array(cm_p[s_])), **sub_cols(cmc, s_))
    idents.append(dict(system="salesforce", table="campaign_member", rid=cm_p, person=cm_p, account=acct[cm_p],
                       record_id=pc.take(cm_ids, pa.array(cm_p)), first=t_mql[cm_p]))

    # opportunity versions: one per stage entry, plus the close
    stages = V.SALESFORCE_OPPORTUNITY_STAGES
    o_rows = []
    for k in range(8):
        s_ = np.nonzero(~np.isnan(E[:, k]))[0]
        o_rows.append((s_, E[s_, k], np.full(len(s_), k)))
    s_ = np.nonzero(closed)[0]
    o_rows.append((s_, close_t[s_], np.where(won[s_], 8, 9)))
    oi = np.concatenate([r_[0] for r_ in o_rows]); ot = np.concatenate([r_[1] for r_ in o_rows])
    ok = np.concatenate([r_[2] for r_ in o_rows])
    o_amount = np.where(ok >= 6, amount1[oi], amount0[oi])
    expect_close = np.where(ok >= 8, np.floor(ot / DAY) * DAY,
                            np.floor((E[oi, 0] + np.where(ok >= 6, 45, 75) * DAY) / DAY) * DAY)
    prob = np.array([V.SALESFORCE_STAGE_PROBABILITY[s] for s in stages], float)[ok]
    fc = take([V.SALESFORCE_FORECAST_CATEGORY[s] for s in stages], ok)
    o_person = opp_p[oi]; o_acc = opp_acct[oi]
    b.add("salesforce.opportunity", ot, oi, person=o_person, account=o_acc,
          id=pc.take(opp_ids, pa.array(oi)), account_id=pc.take(sf_acc_ids, pa.array(o_acc)),
          name=join(pc.take(acc_name, pa.array(o_acc)), " - New Business"), type="New Business",
          stage_name=take(stages, ok), amount=o_amount, probability=prob, close_date=expect_close,
          forecast_category=fc, is_closed=ok >= 8, is_won=ok == 8, lead_source=take(SF_LEAD_SOURCE, channel[o_person]),
          campaign_id=pc.take(camp_ids, pa.array(pc_idx[o_person])), owner_id=ae_of(o_acc),
          next_step=take(("Discovery call", "Send proposal", "Security review", "Legal review", "Kick-off"), np.minimum(ok // 2, 4)),
          is_deleted=False, created_date=E[oi, 0])
    oh_n = len(oi)
    oh_ids = base62_ids("0085g00000", np.arange(oh_n), 8, scramble=805306457)
    b.add("salesforce.opportunity_history", ot, np.arange(oh_n), person=o_person, account=o_acc,
          id=oh_ids, opportunity_id=pc.take(opp_ids, pa.array(oi)), created_by_id=ae_of(o_acc), created_date=ot,
          stage_name=take(stages, ok), amount=o_amount, probability=prob, close_date=expect_close,
          forecast_category=fc, expected_revenue=np.round(o_amount * prob / 100, 2), is_deleted=False)
    if O:
        idents.append(dict(system="salesforce", table="opportunity", rid=np.arange(O), person=opp_p, account=opp_acct,
                           record_id=pc.take(opp_ids, pa.array(np.arange(O))), first=E[:, 0]))
    idents.append(dict(system="salesforce", table="opportunity_history", rid=np.arange(oh_n), person=o_person, account=o_acc,
                       record_id=oh_ids, first=ot))
    opp_tl = pa.table({
        "opportunity_id": pc.take(opp_ids, pa.array(oi)) if oh_n else pa.array([], pa.string()),
        "true_person_id": pa.array(o_person, pa.int64()), "true_account_id": pa.array(o_acc, pa.int64()),
        "stage_name": take(stages, ok), "entered_at": pa.array(ot, pa.float64()),
    })

    # tasks and events
    tk_p, tk_t, tk_what, tk_kind = [], [], [], []
    tk_p.append(lq); tk_t.append(t_touch[lq]); tk_what.append(np.full(L, -1)); tk_kind.append(rng.integers(0, 2, L))
    nf = rng.poisson(1.5, L)
    fpp = np.repeat(lq, nf)
    ftt = t_touch[fpp] + rng.random(len(fpp)) * np.maximum(t_dec[fpp] - t_touch[fpp], 0)
    tk_p.append(fpp); tk_t.append(after(business_time(rng, ftt), t_touch[fpp])); tk_what.append(np.full(len(fpp), -1)); tk_kind.append(rng.integers(0, 2, len(fpp)))
    no = rng.poisson(4, O)
    op_ = np.repeat(np.arange(O), no)
    o_end = np.where(closed, close_t, HORIZON)
    ott = E[op_, 0] + rng.random(len(op_)) * (o_end - E[:, 0])[op_]
    tk_p.append(opp_p[op_]); tk_t.append(business_time(rng, ott)); tk_what.append(op_); tk_kind.append(rng.integers(0, 2, len(op_)))
    T_p = np.concatenate(tk_p); T_t = np.concatenate(tk_t); T_w = np.concatenate(tk_what); T_k = np.concatenate(tk_kind)
    kt = T_t < HORIZON
    T_p, T_t, T_w, T_k = T_p[kt], T_t[kt], T_w[kt], T_k[kt]
    NT = len(T_p)
    as_contact = (T_w >= 0)
    who = pc.if_else(pa.array(as_contact), pc.take(contact_ids, pa.array(T_p)), pc.take(lead_ids, pa.array(T_p)))
    task_ids = base62_ids("00T5g00000", np.arange(NT), 8, scramble=1572869)
    t_owner = pc.if_else(pa.array(as_contact), ae_of(np.maximum(acct[T_p], 0)), sdr_of(T_p))
    tcols = dict(id=task_ids, who_id=who,
                 what_id=pc.if_else(pa.array(as_contact), pc.take(opp_ids, pa.array(np.maximum(T_w, 0))), pa.scalar(None, pa.string())),
                 account_id=pc.if_else(pa.array(as_contact), pc.take(sf_acc_ids, pa.array(np.maximum(acct[T_p], 0))), pa.scalar(None, pa.string())),
                 owner_id=t_owner, subject=take(("Call", "Email: Follow up"), T_k), type=take(("Call", "Email"), T_k),
                 task_subtype=take(("Call", "Email"), T_k), priority="Normal", activity_date=np.floor(T_t / DAY) * DAY,
                 call_duration_in_seconds=np.where(T_k == 0, rng.integers(30, 1800, NT), NAN), is_deleted=False, created_date=T_t)
    b.add("salesforce.task", T_t, np.arange(NT), person=T_p, account=acct[T_p], status="Completed", is_closed=True, **tcols)
    idents.append(dict(system="salesforce", table="task", rid=np.arange(NT), person=T_p, account=acct[T_p], record_id=task_ids, first=T_t))
    # events: discovery meeting at acceptance, demo at Needs Analysis, pricing review at Proposal
    EV_p, EV_t, EV_w, EV_s = [], [], [], []
    acc_p = np.nonzero((outcome == 0) & (t_dec < HORIZON))[0]
    EV_p.append(acc_p); EV_t.append(t_dec[acc_p] + HOUR); EV_w.append(np.full(len(acc_p), -1)); EV_s.append(np.zeros(len(acc_p), np.int64))
    for k, sidx in ((2, 1), (6, 2)):
        s_ = np.nonzero(~np.isnan(E[:, k]))[0]
        EV_p.append(opp_p[s_]); EV_t.append(E[s_, k] + 2 * HOUR); EV_w.append(s_); EV_s.append(np.full(len(s_), sidx))
    EV_p = np.concatenate(EV_p); EV_t = np.concatenate(EV_t); EV_w = np.concatenate(EV_w); EV_s = np.concatenate(EV_s)
    ke = EV_t < HORIZON
    EV_p, EV_t, EV_w, EV_s = EV_p[ke], EV_t[ke], EV_w[ke], EV_s[ke]
    NEV = len(EV_p)
    ev_ids = base62_ids("00U5g00000", np.arange(NEV), 8, scramble=3145739)
    as_c = EV_w >= 0
    dur = np.take((30, 60, 45), EV_s)
    b.add("salesforce.event", EV_t - 2 * DAY, np.arange(NEV), person=EV_p, account=acct[EV_p], id=ev_ids,
          who_id=pc.if_else(pa.array(as_c), pc.take(contact_ids, pa.array(EV_p)), pc.take(lead_ids, pa.array(EV_p))),
          what_id=pc.if_else(pa.array(as_c), pc.take(opp_ids, pa.array(np.maximum(EV_w, 0))), pa.scalar(None, pa.string())),
          account_id=pc.if_else(pa.array(as_c), pc.take(sf_acc_ids, pa.array(np.maximum(acct[EV_p], 0))), pa.scalar(None, pa.string())),
          owner_id=pc.if_else(pa.array(as_c), ae_of(np.maximum(acct[EV_p], 0)), sdr_of(EV_p)),
          subject=take(("Discovery call", "Product demo", "Pricing review"), EV_s), type="Meeting", event_subtype="Event",
          start_date_time=EV_t, end_date_time=EV_t + dur * 60, duration_in_minutes=dur.astype(float),
          activity_date=np.floor(EV_t / DAY) * DAY, is_deleted=False, created_date=EV_t - 2 * DAY)
    idents.append(dict(system="salesforce", table="event", rid=np.arange(NEV), person=EV_p, account=acct[EV_p], record_id=ev_ids, first=EV_t - 2 * DAY))

    # ------------------------------------------------------------------ Stripe
    cus_ids = base62_ids("cus_", np.arange(max(S, 1)), 14, scramble=2147483647)
    sub_ids = base62_ids("sub_", np.arange(max(S, 1)), 14, scramble=1610612741)
    st_mail, _ = vary_email(rng, pc.take(email, pa.array(s_person)), mess.email_variation)
    meta = pc.if_else(pa.array(rng.random(S) < 0.8),
                      join('{"salesforce_account_id": "', pc.take(sf_acc_ids, pa.array(s_acct)), '"}'), pa.scalar("{}", pa.string()))
    cus_t = t_onb - HOUR
    b.add("stripe.customer", cus_t, np.arange(S), person=s_person, account=s_acct, id=pc.take(cus_ids, pa.array(np.arange(S))),
          email=st_mail, name=pc.take(acc_name, pa.array(s_acct)), description=join("Account ", pc.take(sf_acc_ids, pa.array(s_acct))),
          created=cus_t, currency="usd", delinquent=False, address_country=take(COUNTRIES, country[s_acct]),
          metadata=meta, is_deleted=False, livemode=True)
    idents.append(dict(system="stripe", table="customer", rid=np.arange(S), person=s_person, account=s_acct,
                       record_id=pc.take(cus_ids, pa.array(np.arange(S))), first=cus_t))
    # invoices: trial (0), first term, expansion proration, each renewal
    iv_s, iv_t, iv_reason, iv_amt, iv_ps, iv_pe = [], [], [], [], [], []
    price = np.take(PLAN_SEAT_PRICE, s_plan)
    term_amt = np.round(s_seats * price * term / 12)
    srange = np.arange(S)

    def inv(sel, t, reason, amt, ps, pe):
        iv_s.append(srange[sel]); iv_t.append(t[sel]); iv_reason.append(np.full(sel.sum(), reason))
        iv_amt.append(amt[sel]); iv_ps.append(ps[sel]); iv_pe.append(pe[sel])
    hasonb = ~np.isnan(t_onb)
    inv(hasonb, t_onb, 0, np.zeros(S), t_onb, t_act)
    inv(~np.isnan(t_act), t_act, 1, term_amt, t_act, t_act + term_s)
    seats_after = np.where(np.isnan(t_exp), s_seats, exp_seats)
    prorate = np.round((exp_seats - s_seats) * price * term / 12 * 0.5)
    inv(~np.isnan(t_exp), t_exp, 2, prorate, t_exp, t_act + term_s)
    for k, rt in enumerate(renewals):
        inv(~np.isnan(rt), rt, 1, np.round(seats_after * price * term / 12), rt, rt + term_s)
    IS = np.concatenate(iv_s); IT = np.concatenate(iv_t); IR = np.concatenate(iv_reason)
    IA = np.concatenate(iv_amt); IPS = np.concatenate(iv_ps); IPE = np.concatenate(iv_pe)
    NIV = len(IS)
    inv_ids = base62_ids("in_", np.arange(max(NIV, 1)), 14, scramble=1073741827)
    late_pay = rng.random(NIV) < 0.15
    t_paid = IT + np.where(IA == 0, 0, np.where(late_pay, lognormal(rng, 12, 0.4, NIV), lognormal(rng, 2, 0.6, NIV)))
    t_paid = np.where(t_paid < HORIZON, t_paid, NAN)
    # churned with past_due: the last invoice is never paid
    icols = dict(id=pc.take(inv_ids, pa.array(np.arange(NIV))), customer_id=pc.take(cus_ids, pa.array(IS)),
                 subscription_id=pc.take(sub_ids, pa.array(IS)),
                 number=join("NP-", int_str(10000 + np.arange(NIV))), billing_reason=take(V.STRIPE_BILLING_REASONS, np.where(IR == 0, 0, IR)),
                 currency="usd", amount_due=IA, subtotal=IA, tax=np.zeros(NIV), total=IA, created=IT,
                 due_date=IT + 30 * DAY, period_start=IPS, period_end=IPE, attempted=True, attempt_count=np.ones(NIV),
                 is_deleted=False, livemode=True)
    b.add("stripe.invoice", IT, np.arange(NIV), person=s_person[IS], account=s_acct[IS], status=take(("open", "paid"), (IA == 0).astype(int)),
          amount_paid=np.where(IA == 0, 0.0, 0.0), amount_remaining=IA, paid=IA == 0,
          status_transitions_paid_at=np.where(IA == 0, IT, NAN), **icols)
    pi = np.nonzero((IA > 0) & ~np.isnan(t_paid))[0]
    b.add("stripe.invoice", t_paid[pi], pi, person=s_person[IS[pi]], account=s_acct[IS[pi]], status="paid",
          amount_paid=IA[pi], amount_remaining=np.zeros(len(pi)), paid=True, status_transitions_paid_at=t_paid[pi], **sub_cols(icols, pi))
    idents.append(dict(system="stripe", table="invoice", rid=np.arange(NIV), person=s_person[IS], account=s_acct[IS],
                       record_id=pc.take(inv_ids, pa.array(np.arange(NIV))), first=IT))
    # subscription versions
    sv_s, sv_t, sv_status, sv_q, sv_ps, sv_pe, sv_cancel, sv_end = [], [], [], [], [], [], [], []

    def sv(sel, t, status, q, ps, pe, canc=None, end=None):
        sv_s.append(srange[sel]); sv_t.append(t[sel]); sv_status.append(np.full(sel.sum(), status)); sv_q.append(q[sel])
        sv_ps.append(ps[sel]); sv_pe.append(pe[sel])
        sv_cancel.append(np.full(sel.sum(), NAN) if canc is None else canc[sel]); sv_end.append(np.full(sel.sum(), NAN) if end is None else end[sel])
    SI = V.STRIPE_SUBSCRIPTION_STATUSES
    sv(hasonb, t_onb, 0, s_seats, t_onb, t_act)
    sv(~np.isnan(t_act), t_act, 1, s_seats, t_act, t_act + term_s)
    sv(~np.isnan(t_exp), t_exp, 1, exp_seats, t_act, t_act + term_s)
    for k, rt in enumerate(renewals):
        q = np.where(t_exp < rt, exp_seats, s_seats)
        sv(~np.isnan(rt), rt, 1, q, rt, rt + term_s)
    t_term_end = t_churn - np.where(past_due_churn, 14 * DAY, 0)
    pdc = ~np.isnan(t_churn) & past_due_churn
    q_end = np.where(t_exp < t_churn, exp_seats, s_seats)
    sv(pdc, t_term_end, 2, q_end, t_term_end - term_s, t_term_end)
    sv(pdc & (t_term_end + 7 * DAY < HORIZON), t_term_end + 7 * DAY, 4, q_end, t_term_end - term_s, t_term_end)
    sv(~np.isnan(t_churn), t_churn, 3, q_end, t_term_end - term_s, t_term_end, canc=t_churn, end=t_churn)
    SS = np.concatenate(sv_s); ST = np.concatenate(sv_t); SST = np.concatenate(sv_status)
    kk = ST < HORIZON
    SS, ST, SST = SS[kk], ST[kk], SST[kk]
    SQ = np.concatenate(sv_q)[kk]; SPS = np.concatenate(sv_ps)[kk]; SPE = np.concatenate(sv_pe)[kk]
    SCA = np.concatenate(sv_cancel)[kk]; SEN = np.concatenate(sv_end)[kk]
    # latest invoice as of each version
    inv_key = IS * 1e11 + IT
    lat = np.searchsorted(np.sort(inv_key), SS * 1e11 + ST, side="right") - 1
    inv_sorted = np.argsort(inv_key, kind="stable")
    lat_ok = (lat >= 0) & (IS[inv_sorted[np.maximum(lat, 0)]] == SS) if NIV else np.zeros(len(SS), bool)
    latest = pc.if_else(pa.array(lat_ok), pc.take(inv_ids, pa.array(inv_sorted[np.maximum(lat, 0)] if NIV else np.zeros(len(SS), np.int64))), pa.scalar(None, pa.string()))
    b.add("stripe.subscription", ST, SS, person=s_person[SS], account=s_acct[SS],
          id=pc.take(sub_ids, pa.array(SS)), customer_id=pc.take(cus_ids, pa.array(SS)),
          status=take(SI, SST), quantity=SQ, created=t_onb[SS], start_date=t_onb[SS], billing_cycle_anchor=t_act[SS],
          current_period_start=SPS, current_period_end=SPE, trial_start=t_onb[SS], trial_end=t_act[SS],
          cancel_at_period_end=False, canceled_at=SCA, ended_at=SEN, latest_invoice_id=latest,
          metadata=join('{"plan": "', take(PLANS, s_plan[SS]), '", "term_months": "', int_str(term[SS]), '"}'), livemode=True)
    idents.append(dict(system="stripe", table="subscription", rid=np.arange(S), person=s_person, account=s_acct,
                       record_id=pc.take(sub_ids, pa.array(np.arange(S))), first=t_onb))

    # ------------------------------------------------------------------ product usage
    u_start = np.floor(t_onb / DAY)
    u_end = np.floor(np.minimum(sub_end, HORIZON) / DAY)
    ndays = np.where(np.isnan(u_start), 0, np.maximum(u_end - u_start, 0)).astype(np.int64)
    us = np.repeat(srange, ndays)
    uday = u_start[us] + (np.arange(len(us)) - np.repeat(np.cumsum(np.r_[0, ndays[:-1]]), ndays))
    onb_phase = uday * DAY < t_act[us]
    q_now = np.where(uday * DAY >= np.nan_to_num(t_exp[us], nan=np.inf), exp_seats[us], s_seats[us])
    wk = ((uday + 3) % 7) < 5
    p_act = np.where(onb_phase, 0.25, 0.65) * np.where(wk, 1.0, 0.15)
    au = rng.binomial(q_now.astype(np.int64), p_act)
    NU = len(us)
    b.add("product.daily_usage", (uday + 1) * DAY + 2 * HOUR, np.arange(NU), account=s_acct[us],
          account_id=pc.take(sf_acc_ids, pa.array(s_acct[us])), stripe_customer_id=pc.take(cus_ids, pa.array(us)),
          date_day=uday * DAY, active_users=au.astype(float), sessions=(au + rng.poisson(au * 1.5)).astype(float),
          reports_created=rng.poisson(au * 0.4).astype(float), dashboards_viewed=rng.poisson(au * 3.0).astype(float),
          integrations_synced=rng.poisson(np.where(onb_phase, 2.0, 0.5) * (au > 0)).astype(float),
          api_calls=rng.poisson(au * 20.0).astype(float))
    # ------------------------------------------------------------------ Zendesk
    org_ids = 360000000000 + np.arange(A) * 3
    b.add("zendesk.organization", t_onb + DAY, s_acct, account=s_acct, id=org_ids[s_acct],
          name=pc.take(acc_name, pa.array(s_acct)), external_id=pc.take(sf_acc_ids, pa.array(s_acct)),
          details=take(INDUSTRIES, industry[s_acct]), created_at=t_onb + DAY)
    idents.append(dict(system="zendesk", table="organization", rid=s_acct, person=np.full(S, -1), account=s_acct,
                       record_id=int_str(org_ids[s_acct]), first=t_onb + DAY))
    # end users: the champion plus other identified people at customer accounts
    acct_sub = np.full(A, -1); acct_sub[s_acct] = srange
    zs = acct_sub[np.maximum(acct, 0)]
    zu_mask = (acct >= 0) & (zs >= 0) & eng & buyer & ((rng.random(N) < 0.5) | cust)
    zp = np.nonzero(zu_mask)[0]
    zsub = zs[zp]
    zt = t_onb[zsub] + np.where(cust[zp], DAY, lognormal(rng, 20, 0.8, len(zp)))
    zt = np.maximum(zt, t_eng[zp])
    kz = (zt < HORIZON) & (zt < sub_end[zsub])
    zp, zsub, zt = zp[kz], zsub[kz], zt[kz]
    zu_ids = 400000000000 + np.arange(N) * 7
    z_mail, _ = vary_email(rng, email, mess.email_variation)
    n_agents = 2 + N // 1500
    ag_ids = 390000000000 + np.arange(n_agents) * 11
    b.add("zendesk.user", np.full(n_agents, float(START)), N + np.arange(n_agents), id=ag_ids,
          name=join("Support Agent ", int_str(np.arange(n_agents) + 1)), email=join("agent", int_str(np.arange(n_agents) + 1), "@", COMPANY_DOMAIN),
          role="agent", active=True, locale="en-US", time_zone="UTC", created_at=float(START), last_login_at=float(START), _fivetran_deleted=False)
    zc = dict(id=zu_ids[zp], name=pc.take(full_name, pa.array(zp)), email=pc.take(z_mail, pa.array(zp)),
              organization_id=org_ids[acct[zp]], role="end-user", active=True, phone=pc.take(phone, pa.array(zp)),
              time_zone=take(("Eastern Time (US & Canada)", "London", "Berlin", "Paris", "Eastern Time (US & Canada)", "Amsterdam", "Sydney", "Stockholm", "Madrid", "Tokyo"), p_country[zp]),
              locale="en-US", created_at=zt, last_login_at=zt, _fivetran_deleted=False)
    b.add("zendesk.user", zt, zp, person=zp, account=acct[zp], **zc)
    idents.append(dict(system="zendesk", table="user", rid=zp, person=zp, account=acct[zp], record_id=int_str(zu_ids[zp]), first=zt))
    # tickets: about one per user-quarter while the account is a customer
    span = np.maximum(np.minimum(sub_end[zsub], HORIZON) - zt, 0)
    ntk = rng.poisson(span / (90 * DAY))
    tkp = np.repeat(np.arange(len(zp)), ntk)
    tk_t = business_time(rng, zt[tkp] + rng.random(len(tkp)) * span[tkp])
    tk_t = np.maximum(tk_t, zt[tkp] + 60)
    NTK = len(tkp)
    tk_ids = 10001 + np.arange(NTK)
    t_open = tk_t + np.exp(rng.normal(np.log(2 * HOUR), 1.0, NTK))
    t_solved = t_open + lognormal(rng, 1, 1.2, NTK)
    t_closed = t_solved + 4 * DAY
    tpp = zp[tkp]
    tcol = dict(id=tk_ids, created_at=tk_t, subject=take(TICKET_SUBJECTS, rng.integers(0, len(TICKET_SUBJECTS), NTK)),
                priority=take(("low", "normal", "high", "urgent"), rng.choice(4, NTK, p=(0.2, 0.6, 0.15, 0.05))),
                type=take(("question", "incident", "problem", "task"), rng.choice(4, NTK, p=(0.5, 0.3, 0.1, 0.1))),
                requester_id=zu_ids[tpp], submitter_id=zu_ids[tpp], assignee_id=ag_ids[tk_ids % n_agents],
                organization_id=org_ids[acct[tpp]], via_channel=take(("email", "web", "chat"), rng.integers(0, 3, NTK)),
                _fivetran_deleted=False)
    for tt, st in ((tk_t, "new"), (t_open, "open"), (t_solved, "solved"), (t_closed, "closed")):
        s_ = np.nonzero(tt < HORIZON)[0]
        b.add("zendesk.ticket", tt[s_], s_, person=tpp[s_], account=acct[tpp[s_]], status=st, **sub_cols(tcol, s_))
    idents.append(dict(system="zendesk", table="ticket", rid=np.arange(NTK), person=tpp, account=acct[tpp], record_id=int_str(tk_ids), first=tk_t))

    tables = b.finish()
    # identities in one table
    ident = pa.table({
        "system": pa.concat_arrays([pa.array(np.full(len(d["rid"]), d["system"], object), pa.string()) for d in idents]),
        "table": pa.concat_arrays([pa.array(np.full(len(d["rid"]), d["table"], object), pa.string()) for d in idents]),
        "record_id": pa.concat_arrays([d["record_id"].cast(pa.string()) for d in idents]),
        "true_person_id": pa.array(np.concatenate([np.asarray(d["person"], np.int64) for d in idents])),
        "true_account_id": pa.array(np.concatenate([np.asarray(d["account"], np.int64) for d in idents])),
        "first_seen": pa.array(np.concatenate([np.asarray(d["first"], np.float64) for d in idents])),
        "_rid": pa.array(np.concatenate([np.asarray(d["rid"], np.int64) for d in idents])),
    })
    persons = pa.table({
        "true_person_id": pa.array(allp), "true_account_id": pa.array(acct), "kind": take(("buyer", "competitor", "internal", "test"), kind),
        "email": email, "first_name": first, "last_name": last, "title": take(TITLES, title_i),
        "first_touch_channel": take(CHANNELS, channel), "first_seen_at": pa.array(t_visit),
    })
    accounts = pa.table({
        "true_account_id": pa.array(np.arange(A)), "name": acc_name, "domain": domain,
        "industry": take(INDUSTRIES, industry), "employees": pa.array(employees.astype(np.int64)),
        "country": take(COUNTRIES, country), "is_competitor": pa.array(competitor),
    })
    return World(scale, seed, mess, tables, persons, accounts, timeline, opp_tl, ident, mc)
