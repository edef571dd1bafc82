/* The connection to the Genius source: settings, connect, the source clock. */
#include "extract.h"

#include <errmsg.h>
#include <mysqld_error.h>	/* MariaDB refuses insecure transport as access denied */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* For the messages: the timeouts in force, and which one applies. */
static unsigned connect_secs, read_secs;
static int connected;

/* An environment value, NULL when unset or empty. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static unsigned env_port(void)
{
	const char *s = env("GENIUS_DB_PORT");
	unsigned long long p;

	if (!s)
		return 0;
	p = isdigit((unsigned char)*s) ? strtoull(s, NULL, 10) : 0;
	if (strspn(s, "0123456789") != strlen(s) || p < 1 || p > 65535)
		gx_die(GX_EXIT_DATA, "GENIUS_DB_PORT: not a port number: '%s'", s);
	return (unsigned)p;
}

/* What most likely went wrong, as " (...)" or "": err is the errno the
 * client library left, ETIMEDOUT when a timeout expired. */
static const char *cause(MYSQL *my, int err)
{
	static char why[160];
	unsigned e = mysql_errno(my);

	if (err == ETIMEDOUT && !connected)
		snprintf(why, sizeof why, " (no reply within %u s: --timeout)",
			 connect_secs);
	else if (err == ETIMEDOUT && read_secs)
		snprintf(why, sizeof why, " (the server sent nothing for %u s: "
			 "--read-timeout)", read_secs);
	else if (err == ETIMEDOUT)
		snprintf(why, sizeof why, " (timed out)");
	else if (connected && (e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR))
		snprintf(why, sizeof why, " (the server stopped or restarted, "
			 "killed our session, or the network failed)");
	else
		why[0] = '\0';
	return why;
}

void db_die(MYSQL *my, const char *fmt, ...)
{
	int err = errno;
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	gx_die(GX_EXIT_SERVER, "%s: %s%s", what, mysql_error(my), cause(my, err));
}

/* Connector/C reports every failed TCP connect as errno 115 (EINPROGRESS),
 * whatever the kernel said: ask the kernel again, for at most a second, so
 * that the message says "Connection refused" when the server is down. */
static const char *tcp_cause(const char *host, unsigned port)
{
	static char why[160];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct pollfd p = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	char serv[12];
	int err = 0;

	snprintf(serv, sizeof serv, "%u", port);
	if (getaddrinfo(host, serv, &hints, &ai))
		return "";
	p.fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (p.fd >= 0 && !fcntl(p.fd, F_SETFL, O_NONBLOCK) &&
	    connect(p.fd, ai->ai_addr, ai->ai_addrlen))
		err = errno;
	if (err == EINPROGRESS && poll(&p, 1, 1000) == 1 &&
	    getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = 0;
	if (p.fd >= 0)
		close(p.fd);
	freeaddrinfo(ai);
	if (!err || err == EINPROGRESS)
		return "";
	snprintf(why, sizeof why, " (%s)", strerror(err));
	return why;
}

/* What we tried to connect to, for the message: the environment's values,
 * else the option file's (read into mysql->options, which the library
 * offers no getter for), else the library's defaults. */
static noreturn void connect_failed(MYSQL *my, const char *host, unsigned port,
				    const char *user, const char *sock)
{
	int errno_at_failure = errno;
	const struct st_mysql_options *o = &my->options;
	char *err = gx_strdup(mysql_error(my));
	gx_buf at = GX_BUF_INIT;

	if (!host)
		host = o->host && *o->host ? o->host : "localhost";
	if (!user)
		user = o->user && *o->user ? o->user : "(default user)";
	if (!sock && o->unix_socket && *o->unix_socket)
		sock = o->unix_socket;
	if (!port)
		port = o->port ? o->port : 3306;
	/* The library takes "localhost" to mean its unix socket. */
	if (!strcmp(host, "localhost") && sock)
		buf_addf(&at, "%s:%s", host, sock);
	else
		buf_addf(&at, "%s:%u", host, port);
	gx_die(GX_EXIT_SERVER, "cannot connect to MySQL at %s as %s: %s%s", at.s,
	       user, err, errno_at_failure == EINPROGRESS && strcmp(host, "localhost") ?
	       tcp_cause(host, port) : cause(my, errno_at_failure));
}

/* ---- settings ------------------------------------------------------ */

/* libpq's sslmode words, in order of strength. */
enum tls_mode { TLS_DISABLE, TLS_PREFER, TLS_REQUIRE, TLS_VERIFY_CA, TLS_VERIFY_FULL };
static const char *const tls_names[] = { "disable", "prefer", "require",
					 "verify-ca", "verify-full" };

static int tls_mode(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof tls_names / sizeof *tls_names; i++)
		if (!strcmp(s, tls_names[i]))
			return (int)i;
	return -1;
}

void db_args_init(struct db_args *a)
{
	memset(a, 0, sizeof *a);
	a->files.file = env("GENIUS_DB_OPTION_FILE");
	/* mysys reads it too, when --defaults-group-suffix is not given */
	a->files.suffix = env("MYSQL_GROUP_SUFFIX");
	a->ssl_mode = env("GENIUS_DB_SSL_MODE");
	a->ssl_ca = env("GENIUS_DB_SSL_CA");
	a->ssl_cert = env("GENIUS_DB_SSL_CERT");
	a->ssl_key = env("GENIUS_DB_SSL_KEY");
}

static int defaults_flag;	/* --defaults-file or --defaults-extra-file given */

int db_option(struct db_args *a, int c, const char *arg)
{
	switch (c) {
	case DB_O_NO_DEFAULTS: a->files.no_defaults = 1; break;
	case DB_O_DEFAULTS_FILE: a->files.file = arg; defaults_flag = 1; break;
	case DB_O_EXTRA_FILE: a->files.extra = arg; defaults_flag = 1; break;
	case DB_O_GROUP_SUFFIX: a->files.suffix = arg; break;
	case DB_O_SSL_MODE: a->ssl_mode = arg; break;
	case DB_O_SSL_CA: a->ssl_ca = arg; break;
	case DB_O_SSL_CERT: a->ssl_cert = arg; break;
	case DB_O_SSL_KEY: a->ssl_key = arg; break;
	default: return 0;
	}
	return 1;
}

void db_args_check(const struct db_args *a)
{
	const char *const files[] = { a->ssl_ca, a->ssl_cert, a->ssl_key };
	size_t i;

	if (a->files.no_defaults && defaults_flag)
		gx_usage_error("%s", "--no-defaults reads no option file: drop "
			       "--defaults-file and --defaults-extra-file");
	if (a->ssl_mode && tls_mode(a->ssl_mode) < 0)
		gx_usage_error("SSL mode: expected disable, prefer, require, "
			       "verify-ca or verify-full: '%s'", a->ssl_mode);
	for (i = 0; i < sizeof files / sizeof *files; i++)
		if (files[i] && access(files[i], R_OK))
			gx_usage_error("cannot read '%s'", files[i]);
	if (a->files.no_defaults)
		return;
	if (a->files.file && access(a->files.file, R_OK))
		gx_usage_error("cannot read option file '%s'", a->files.file);
	if (a->files.extra && access(a->files.extra, R_OK))
		gx_usage_error("cannot read option file '%s'", a->files.extra);
}

/* One setting and where it came from, for --debug and the messages. */
struct setting {
	const char *v, *from;
};

static struct setting pick(const char *arg, const char *arg_from,
			   const struct cnf *c, enum cnf_key k)
{
	if (arg)
		return (struct setting){ arg, arg_from };
	return (struct setting){ c->value[k], c->where[k] };
}

static const char *from(const struct setting *s)
{
	return s->from ? s->from : "unset";
}

/* Which of the two spellings gave a setting: the environment or the flag. */
static const char *source(const char *v, const char *env_name, const char *flag)
{
	const char *e = getenv(env_name);

	return e && !strcmp(e, v) ? env_name : flag;
}

/* What the TLS settings add up to: the mode, and where it came from. */
struct tls {
	enum tls_mode mode;
	const char *why;
	char ca_why[256];	/* "a CA is given (where)" */
	struct setting ca, capath, cert, key;
	int tcp;		/* a TCP connection (TLS does not apply to the socket) */
};

/* The mode: the command line or GENIUS_DB_SSL_MODE; else the option
 * files' own words, never weaker than the stock client takes them (it
 * honours ssl-verify-server-cert with no value, which Connector/C drops);
 * else verify-full once a CA is given (giving one asks for verification:
 * the host name too, unless ssl-verify-server-cert=0 says otherwise);
 * else prefer, the stock client's default. */
static void tls_choose(struct tls *t, const struct db_args *a, const struct cnf *c)
{
	const char *vsc = c->value[CNF_SSL_VERIFY_SERVER_CERT];

	if (a->ssl_mode) {
		t->mode = (enum tls_mode)tls_mode(a->ssl_mode);
		t->why = source(a->ssl_mode, "GENIUS_DB_SSL_MODE", "--ssl-mode");
	} else if (vsc && *vsc == '1') {
		t->mode = TLS_VERIFY_FULL;
		t->why = c->where[CNF_SSL_VERIFY_SERVER_CERT];
	} else if (c->value[CNF_SSL] && *c->value[CNF_SSL] == '0') {
		t->mode = TLS_DISABLE;
		t->why = c->where[CNF_SSL];
	} else if (t->ca.v || t->capath.v) {
		t->mode = vsc ? TLS_VERIFY_CA : TLS_VERIFY_FULL;
		t->why = vsc ? c->where[CNF_SSL_VERIFY_SERVER_CERT] :
			 t->ca.v ? t->ca_why : t->capath.from;
	} else {
		t->mode = TLS_PREFER;
		t->why = "the default";
	}
	if (t->mode == TLS_VERIFY_CA && !t->ca.v && !t->capath.v)
		gx_usage_error("%s", "SSL mode verify-ca needs a CA to verify against: "
			       "GENIUS_DB_SSL_CA, --ssl-ca, or ssl-ca in an option file");
}

/* Sets Connector/C's options for the mode. In 3.3 a CA makes the library
 * verify the chain, MYSQL_OPT_SSL_VERIFY_SERVER_CERT adds the host name
 * (and, without a CA, the system's trust store), and neither
 * MYSQL_OPT_SSL_ENFORCE nor a CA refuses a server that offers no TLS: only
 * VERIFY_SERVER_CERT does. tls_check sees to the rest after connecting. */
static void tls_apply(MYSQL *my, const struct tls *t, const struct cnf *c)
{
	my_bool yes = 1;

	if (!t->tcp || t->mode == TLS_DISABLE)
		return;
	mysql_ssl_set(my, t->key.v, t->cert.v, NULL, NULL, c->value[CNF_SSL_CIPHER]);
	if (t->mode >= TLS_REQUIRE)
		mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &yes);
	if (t->mode >= TLS_VERIFY_CA) {
		if (t->ca.v)
			mysql_optionsv(my, MYSQL_OPT_SSL_CA, t->ca.v);
		if (t->capath.v)
			mysql_optionsv(my, MYSQL_OPT_SSL_CAPATH, t->capath.v);
		if (c->value[CNF_SSL_CRL])
			mysql_optionsv(my, MYSQL_OPT_SSL_CRL, c->value[CNF_SSL_CRL]);
		if (c->value[CNF_SSL_CRLPATH])
			mysql_optionsv(my, MYSQL_OPT_SSL_CRLPATH, c->value[CNF_SSL_CRLPATH]);
	}
	if (t->mode == TLS_VERIFY_FULL)
		mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
	if (c->value[CNF_TLS_VERSION])
		mysql_optionsv(my, MARIADB_OPT_TLS_VERSION, c->value[CNF_TLS_VERSION]);
}

/* After connecting: refuses an unencrypted TCP connection in a mode that
 * requires TLS; says under --debug what the connection is. */
static void tls_check(MYSQL *my, const struct tls *t, const char *host)
{
	const char *cipher = mysql_get_ssl_cipher(my), *version = NULL;
	unsigned pvio = MARIADB_CONNECTION_TCP;

	mariadb_get_infov(my, MARIADB_CONNECTION_PVIO_TYPE, &pvio);
	if (pvio == MARIADB_CONNECTION_UNIXSOCKET) {
		gx_debug("connection: unix socket (local: TLS does not apply)");
		return;
	}
	if (!cipher) {
		if (t->mode >= TLS_REQUIRE)
			gx_die(GX_EXIT_SERVER, "the server at %s offers no TLS, and the "
			       "SSL mode is %s (%s): not connecting unencrypted",
			       host ? host : "localhost", tls_names[t->mode], t->why);
		gx_debug("connection: not encrypted (SSL mode %s, %s%s)",
			 tls_names[t->mode], t->why, t->mode == TLS_PREFER ?
			 ": the server offers no TLS" : "");
		return;
	}
	mariadb_get_infov(my, MARIADB_CONNECTION_TLS_VERSION, &version);
	if (t->mode >= TLS_VERIFY_CA)
		gx_debug("connection: encrypted, %s %s; server certificate verified "
			 "against %s%s%s (SSL mode %s, %s)", version ? version : "TLS",
			 cipher, t->ca.v || t->capath.v ? "CA " : "the system's trust store",
			 t->ca.v ? t->ca.v : t->capath.v ? t->capath.v : "",
			 t->mode == TLS_VERIFY_FULL ? ", host name checked" :
			 ", host name not checked", tls_names[t->mode], t->why);
	else
		gx_debug("connection: encrypted, %s %s; server certificate not "
			 "verified (SSL mode %s, %s)", version ? version : "TLS", cipher,
			 tls_names[t->mode], t->why);
}

/* A hint for a failed connection, from the TLS mode. */
static const char *tls_hint(MYSQL *my, const struct tls *t)
{
	static char hint[320];
	unsigned e = mysql_errno(my);

	hint[0] = '\0';
	if (e == CR_SSL_CONNECTION_ERROR && t->mode >= TLS_VERIFY_CA &&
	    !strstr(mysql_error(my), "does not support"))
		snprintf(hint, sizeof hint, " (SSL mode %s, %s: the server's "
			 "certificate must be signed by %s%s)", tls_names[t->mode],
			 t->why, t->ca.v ? t->ca.v : t->capath.v ? t->capath.v :
			 "a CA of the system's trust store", t->mode == TLS_VERIFY_FULL ?
			 " and name the host connected to" : "");
	else if (t->mode == TLS_DISABLE && t->tcp &&
		 e == ER_ACCESS_DENIED_ERROR)
		snprintf(hint, sizeof hint, " (SSL mode disable, %s: does the "
			 "server or the account require TLS?)", t->why);
	return hint;
}

static unsigned cnf_port(const struct cnf *c)
{
	const char *s = c->value[CNF_PORT];

	if (!s)
		return 0;
	if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 5 ||
	    !atoi(s) || atoi(s) > 65535)
		gx_die(GX_EXIT_DATA, "%s: port: not a port number: '%s'",
		       c->where[CNF_PORT], s);
	return (unsigned)atoi(s);
}

static void cnf_apply(MYSQL *my, const struct cnf *c)
{
	const char *p = c->value[CNF_PROTOCOL];

	if (p) {
		unsigned proto = !strcasecmp(p, "tcp") ? MYSQL_PROTOCOL_TCP :
				 !strcasecmp(p, "socket") ? MYSQL_PROTOCOL_SOCKET : 0;
		if (!proto)
			gx_die(GX_EXIT_DATA, "%s: protocol: expected tcp or socket: '%s'",
			       c->where[CNF_PROTOCOL], p);
		mysql_optionsv(my, MYSQL_OPT_PROTOCOL, &proto);
	}
	if (c->value[CNF_INIT_COMMAND])
		mysql_optionsv(my, MYSQL_INIT_COMMAND, c->value[CNF_INIT_COMMAND]);
	if (c->value[CNF_COMPRESS] && *c->value[CNF_COMPRESS] == '1')
		mysql_optionsv(my, MYSQL_OPT_COMPRESS, NULL);
	if (c->value[CNF_PLUGIN_DIR])
		mysql_optionsv(my, MYSQL_PLUGIN_DIR, c->value[CNF_PLUGIN_DIR]);
	if (c->value[CNF_DEFAULT_AUTH])
		mysql_optionsv(my, MYSQL_DEFAULT_AUTH, c->value[CNF_DEFAULT_AUTH]);
}

MYSQL *db_connect(const struct db_args *a, unsigned connect_timeout,
		  unsigned read_timeout)
{
	struct cnf c;
	struct tls t = { 0 };
	unsigned port = env_port();
	my_bool no = 0;
	MYSQL *my;

	/* The client library would take it, silently, behind every other
	 * setting; the stock client deprecated it (MySQL 8.0). */
	if (getenv("MYSQL_PWD"))
		gx_die(GX_EXIT_DATA, "MYSQL_PWD is set: gx does not use it (MySQL "
		       "deprecated it as insecure, and the library would take it "
		       "behind gx's back): unset it; give GENIUS_DB_PASSWORD or a "
		       "password in an option file");
	cnf_read(&c, &a->files);
	gx_debug("option files: %s (groups client, client-server, client-mariadb, "
		 "gx%s%s)", a->files.no_defaults ? "none (--no-defaults)" :
		 c.files.len ? c.files.s : "none found", c.suffix ? "; suffix " : "",
		 c.suffix ? c.suffix : "");
	struct setting host = pick(env("GENIUS_DB_HOST"), "GENIUS_DB_HOST", &c, CNF_HOST);
	struct setting user = pick(env("GENIUS_DB_USER"), "GENIUS_DB_USER", &c, CNF_USER);
	struct setting pw = pick(env("GENIUS_DB_PASSWORD"), "GENIUS_DB_PASSWORD", &c,
				 CNF_PASSWORD);
	struct setting db = pick(env("GENIUS_DB_NAME"), "GENIUS_DB_NAME", &c, CNF_DATABASE);
	struct setting sock = pick(env("GENIUS_DB_SOCKET"), "GENIUS_DB_SOCKET", &c,
				   CNF_SOCKET);
	const char *port_from = port ? "GENIUS_DB_PORT" : c.where[CNF_PORT];
	if (!port)
		port = cnf_port(&c);
	t.ca = pick(a->ssl_ca, a->ssl_ca ? source(a->ssl_ca, "GENIUS_DB_SSL_CA",
		    "--ssl-ca") : NULL, &c, CNF_SSL_CA);
	t.capath = pick(NULL, NULL, &c, CNF_SSL_CAPATH);
	t.cert = pick(a->ssl_cert, a->ssl_cert ? source(a->ssl_cert,
		      "GENIUS_DB_SSL_CERT", "--ssl-cert") : NULL, &c, CNF_SSL_CERT);
	t.key = pick(a->ssl_key, a->ssl_key ? source(a->ssl_key, "GENIUS_DB_SSL_KEY",
		     "--ssl-key") : NULL, &c, CNF_SSL_KEY);
	snprintf(t.ca_why, sizeof t.ca_why, "a CA is given: %s", from(&t.ca));
	tls_choose(&t, a, &c);
	/* The library takes "localhost" (or no host) to mean its socket. */
	const char *proto = c.value[CNF_PROTOCOL];
	t.tcp = proto ? !strcasecmp(proto, "tcp") :
		host.v && strcmp(host.v, "localhost");

	connect_secs = connect_timeout;
	read_secs = read_timeout;
	if (!(my = mysql_init(NULL)))
		gx_die(GX_EXIT_BUG, "mysql_init: out of memory");
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	if (read_timeout) {
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout);
	}
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* A silent reconnect in the middle of a stream would restart it. */
	mysql_options(my, MYSQL_OPT_RECONNECT, &no);
	cnf_apply(my, &c);
	tls_apply(my, &t, &c);
	gx_debug("connecting to %s (%s) port %u (%s)%s%s as %s (%s), password %s "
		 "(%s), database %s (%s), timeouts connect %us read %us",
		 host.v ? host.v : "localhost", from(&host), port ? port : 3306,
		 port_from ? port_from : "default", sock.v ? " socket " : "",
		 sock.v ? sock.v : "", user.v ? user.v : "(default user)", from(&user),
		 pw.v ? "set" : "none", from(&pw), db.v ? db.v : "(none)", from(&db),
		 connect_timeout, read_timeout);
	if (t.tcp)
		gx_debug("TLS: SSL mode %s (%s); CA %s (%s); client certificate %s (%s)",
			 tls_names[t.mode], t.why, t.ca.v ? t.ca.v : t.capath.v ?
			 t.capath.v : "none", t.ca.v ? from(&t.ca) : from(&t.capath),
			 t.cert.v ? t.cert.v : "none", from(&t.cert));
	if (!mysql_real_connect(my, host.v, user.v, pw.v, db.v, port, sock.v,
				CLIENT_REMEMBER_OPTIONS)) {
		const char *hint = tls_hint(my, &t);
		if (*hint) {
			char *e = gx_strdup(mysql_error(my));
			gx_die(GX_EXIT_SERVER, "cannot connect to MySQL at %s:%u as %s: %s%s",
			       host.v ? host.v : "localhost", port ? port : 3306,
			       user.v ? user.v : "(default user)", e, hint);
		}
		connect_failed(my, host.v, port, user.v, sock.v);
	}
	/* The session's character set is gx's whatever a server or an init
	 * command says: latin1 columns are to arrive as UTF-8. */
	if (strcmp(mysql_character_set_name(my), "utf8mb4") &&
	    mysql_set_character_set(my, "utf8mb4"))
		gx_die(GX_EXIT_SERVER, "cannot use utf8mb4: %s", mysql_error(my));
	connected = 1;
	tls_check(my, &t, host.v);
	gx_debug("connected: server %s, %s", mysql_get_server_info(my),
		 mysql_get_host_info(my));
	cnf_free(&c);
	return my;
}

void db_exec(MYSQL *my, const char *sql)
{
	gx_debug("sql: %s", sql);
	if (mysql_query(my, sql))
		db_die(my, "%s", sql);
}

void db_clock(MYSQL *my, struct db_clock *c)
{
	static const char sql[] =
		"SELECT NOW(6), @@session.time_zone, @@system_time_zone, "
		"@@session.timestamp";
	MYSQL_RES *res;
	MYSQL_ROW row;

	gx_debug("sql: %s", sql);
	if (mysql_query(my, sql) || !(res = mysql_store_result(my)))
		db_die(my, "cannot read the source clock");
	row = mysql_fetch_row(res);
	if (!row || mysql_num_fields(res) != 4 || !row[0] || !row[3])
		gx_die(GX_EXIT_SERVER, "cannot read the source clock: no row");
	c->now = gx_strdup(row[0]);
	c->time_zone = gx_strdup(row[1] ? row[1] : "");
	c->system_time_zone = gx_strdup(row[2] ? row[2] : "");
	c->instant = gx_strdup(row[3]);
	c->epoch = clock_epoch("@@timestamp", row[3]);
	mysql_free_result(res);
}

void db_clock_free(struct db_clock *c)
{
	free(c->now);
	free(c->time_zone);
	free(c->system_time_zone);
	free(c->instant);
}
