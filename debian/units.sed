# sed script of debian/rules: the units of docs/examples, written for a
# checkout in /opt/gx with its settings in /etc/gx/env, as packaged: the
# programs in /usr/bin, the state in /var/lib/gx, and no EnvironmentFile=,
# as gx-sync reads /etc/gx/gx.conf itself (gx-sync(1), FILES).
s|^# Install: copy both units to /etc/systemd/system, then$|# Installed by the gx package, not enabled: fill in /etc/gx/gx.conf, then|
s|^#   systemctl daemon-reload && systemctl enable |#   systemctl enable |
s|^Documentation=.*|Documentation=man:gx-sync(1) man:gx(7)|
/^# KEY=value lines: GENIUS_DB_\*, PG\*/d
s|^EnvironmentFile=/etc/gx/env$|# The settings: /etc/gx/gx.conf, which gx-sync reads itself.|
s|^WorkingDirectory=/opt/gx$|WorkingDirectory=/var/lib/gx|
s|^ExecStart=/opt/gx/scripts/|ExecStart=/usr/bin/gx-sync |
