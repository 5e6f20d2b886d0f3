# The service as an operator runs it: the built wheel (the product, tests/test_wheel.py) on a slim
# Python, as a non-root user, served by granian. Build: `docker build -t selfinstall .`
# Configuration is the environment (README, "Settings" and "Deployment"); secrets are never baked in.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY backend ./backend
COPY mobile_api ./mobile_api
COPY fixtures ./fixtures
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Every dependency ships manylinux wheels with their native libraries (Pillow, pillow-heif, zxing-cpp,
# shapely, numpy, asyncpg, granian): no compiler and no system package is needed.
COPY --from=build /wheels/ /tmp/wheels/
RUN pip install /tmp/wheels/selfinstall-*.whl && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --user-group --home-dir /srv/selfinstall --create-home selfinstall
USER selfinstall
WORKDIR /srv/selfinstall
# HOST 0.0.0.0 is not a loopback address: serve refuses to start with a development secret.
ENV SELFINSTALL_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/srv/selfinstall/data
EXPOSE 8000
# Liveness only (the process answers): a database outage must not get the container restarted;
# /health/ready is for the load balancer.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; sys.exit(u.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live\", timeout=2).status != 200)"]
CMD ["selfinstall", "serve"]
