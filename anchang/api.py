"""The JSON API v1 (api.md): wiring only; each app owns its router."""

from ninja import NinjaAPI

from anchang.accounts.api import BearerTokenAuth
from anchang.accounts.api import router as accounts_router
from anchang.core.api import install_error_handlers
from anchang.inventory.api import router as inventory_router

api = NinjaAPI(
    title="Anchang 案场 API",
    version="1",
    description="案场接待、销控与物业前台的 JSON API。认证：POST /api/v1/auth/token 获取 Bearer 令牌。",
    urls_namespace="api",
    auth=BearerTokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", inventory_router)
