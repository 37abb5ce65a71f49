"""tapkit: what every tenantsync tap shares.

- `http`: HttpClient (keep-alive session, retries with backoff + jitter, Retry-After, one
  re-authentication, pacing hooks, secret-free errors);
- `pacing`: QuotaGuard (stop before a share of the daily quota) and RateWindow;
- `oauth` / `tokens`: refresh-token grant, rotated tokens handed to sinks (`TokenSink`
  callbacks, `FileTokenStore`);
- `strategy`: full / incremental decided from the stream's own Singer state;
- `stream`: TapkitTap / TapkitStream (per-page STATE, ACTIVATE_VERSION, clean stop, fast
  record emission, optional one-page-ahead fetching via `prefetch`, `NEW_QUERY` markers);
- `rest`: the declarative REST engine (objects as `RestObject` rows: paging styles,
  incremental bounds, delete detection, rate-limit headers; read by `RestStream`);
- `common`: mapping provider records to Supaglue's common objects;
- `settings`: the settings all taps declare.
"""

from tenantsync.tapkit.errors import (
    AuthError,
    FatalHttpError,
    RetriableBodyError,
    StopSync,
    TapkitError,
    TokenSinkError,
)
from tenantsync.tapkit.tokens import FileTokenStore, TokenSink, TokenUpdate, load_sink

__all__ = [
    "AuthError",
    "FatalHttpError",
    "FileTokenStore",
    "RetriableBodyError",
    "StopSync",
    "TapkitError",
    "TokenSink",
    "TokenSinkError",
    "TokenUpdate",
    "load_sink",
]
