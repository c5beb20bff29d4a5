

# --- Production overrides (appended by docker/superset.Dockerfile) ----------------------
# PostgreSQL metadata and Redis caches, read from the environment (docker-compose.yml, .env).
if os.environ.get("SUPERSET_DATABASE_URI"):
    SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_DATABASE_URI"]

if os.environ.get("SUPERSET_REDIS_URL"):
    _redis_url = os.environ["SUPERSET_REDIS_URL"]

    def _redis_cache(prefix: str, timeout: int) -> dict:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": _redis_url,
                "CACHE_DEFAULT_TIMEOUT": timeout, "CACHE_KEY_PREFIX": prefix}

    CACHE_CONFIG = _redis_cache("ouderpeil_meta_", 3600)
    DATA_CACHE_CONFIG = _redis_cache("ouderpeil_data_", _data_timeout)
    FILTER_STATE_CACHE_CONFIG = _redis_cache("ouderpeil_filter_", 86400)
    EXPLORE_FORM_DATA_CACHE_CONFIG = _redis_cache("ouderpeil_explore_", 86400)
    RATELIMIT_STORAGE_URI = _redis_url
