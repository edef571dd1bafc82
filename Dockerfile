# The image docs/examples/gx-cronjob.yaml runs (registry.example.com/gx):
# Debian 12, the Debian package built from this tree (debian/) in the first
# stage and installed in the second, run as the gx user the package makes.
#   docker build -t registry.example.com/gx:latest .
#
# It has never been built where gx is developed (no registry, no network for
# docker there): tests/deb.bats builds, installs and syncs with the same
# package, and checks this file's outline only. Keep it that small.

FROM debian:12 AS build
WORKDIR /src/gx
# The build dependencies first (debian/control), so that a change to the
# code does not download them again.
COPY debian/control debian/control
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential dpkg-dev \
 && apt-get build-dep -y ./ \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN dpkg-buildpackage -us -uc -b

FROM debian:12-slim
COPY --from=build /src/gx_*.deb /tmp/
# apt resolves the package's Depends (libmariadb3, libpq5, jq, make ...).
# The Kubernetes example runs /opt/gx/scripts/all, a checkout's layout:
# /opt/gx is a link to the package's /usr/share/gx, and GX_HOME tells the
# scripts where they are installed (they do not resolve the link).
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/gx_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/gx_*.deb \
 && ln -s /usr/share/gx /opt/gx
ENV GX_HOME=/usr/share/gx GX_REJECTS_DIR=/var/lib/gx/rejects
USER gx
WORKDIR /var/lib/gx
CMD ["/opt/gx/scripts/all", "--jobs", "4", "--keep-going"]
