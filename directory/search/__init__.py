"""The crew search, one public entry point: `service_search(query=...)` with a query from
`search_query_from_params`, answering a `SearchResult`; pages, the API, referrals and the
benchmarks import only from here.

The parts, in the order a search runs them:
- params.py: the parameters, parsed and checked once (SearchQuery);
- sql.py: the fast path, candidates from the search index, judged and ranked in SQL;
- statement.py: that SQL compiled once per shape of search, and the fast path's rows;
- judged.py: the exact path (exceptions, bank holidays, clock changes, explain);
- rank.py: the ranking, in SQL and in Python, and the named row (Ranked) the stages pass;
- results.py: each result's answer, and its JSON;
- service.py: service_search joins them and keeps the anonymous log row (search_log_row).
The eligibility rules themselves live in directory/eligibility.py, the time rule in
directory/timing.py.
"""

from directory.search.params import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_KM,
    MAX_AGE,
    MAX_LIMIT,
    MAX_RADIUS_KM,
    SearchQuery,
    search_query_from_params,
)
from directory.search.rank import Ranked
from directory.search.results import describe, service_summary, summary_json
from directory.search.service import SearchResult, search_log_record, service_search
from directory.search.sql import (
    EMERGENCY_DEPARTMENT,
    UNCERTAIN,
    Moment,
    candidates_queryset,
    fast_rows_queryset,
    fast_rows_sql,
    nearest_band_km,
    nearest_band_settles,
)
from directory.search.statement import fast_rows, fast_rows_statement

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_RADIUS_KM",
    "EMERGENCY_DEPARTMENT",
    "MAX_AGE",
    "MAX_LIMIT",
    "MAX_RADIUS_KM",
    "Ranked",
    "UNCERTAIN",
    "Moment",
    "SearchQuery",
    "SearchResult",
    "candidates_queryset",
    "describe",
    "fast_rows",
    "fast_rows_queryset",
    "fast_rows_sql",
    "fast_rows_statement",
    "nearest_band_km",
    "nearest_band_settles",
    "search_log_record",
    "search_query_from_params",
    "service_search",
    "service_summary",
    "summary_json",
]
