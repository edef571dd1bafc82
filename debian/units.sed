# sed script of debian/rules: docs/examples/gx-sync.{service,timer}, written
# for a checkout in /opt/gx with /etc/gx/env, as packaged: the programs in
# /usr/bin, the settings in /etc/gx/gx.conf, the state in /var/lib/gx.
/^# Install: copy both units/,/systemctl daemon-reload/c\
# Installed by the gx package, not enabled: fill in /etc/gx/gx.conf, then\
#   systemctl enable --now gx-sync.timer
s|^Documentation=.*|Documentation=man:gx-sync(1) man:gx(7)|
s|^EnvironmentFile=/etc/gx/env$|EnvironmentFile=/etc/gx/gx.conf|
s|^WorkingDirectory=/opt/gx$|WorkingDirectory=/var/lib/gx|
s|^ExecStart=/opt/gx/scripts/all |ExecStart=/usr/bin/gx-sync all |
