"""`/docs` and `/redoc` work without internet (issue 14): their pages load Swagger UI and ReDoc
from the service itself (assets of the installed fastapi-offline package), never a CDN."""

from __future__ import annotations

import re


def test_docs_pages_load_their_assets_from_the_service(a):
    for page, assets in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
                         ("/redoc", ("redoc.standalone.js",))):
        r = a.get(page)
        assert r.status_code == 200, (page, r.text[:200])
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        assert urls and all(u.startswith("/") for u in urls), (page, urls)  # no CDN
        for asset in assets:
            url = next(u for u in urls if u.endswith(asset))
            got = a.get(url)
            assert got.status_code == 200 and len(got.content) > 10_000, url
