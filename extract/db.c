/* The connection to the Genius source: settings, connect, the source clock. */
#include "extract.h"

#include <errmsg.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

MYSQL *db_connect(const char *option_file, unsigned connect_timeout,
		  unsigned read_timeout)
{
	const char *host = env("GENIUS_DB_HOST"), *user = env("GENIUS_DB_USER");
	const char *db = env("GENIUS_DB_NAME"), *sock = env("GENIUS_DB_SOCKET");
	unsigned port = env_port();
	my_bool no = 0;
	MYSQL *my = mysql_init(NULL);

	connect_secs = connect_timeout;
	read_secs = read_timeout;
	if (!my)
		gx_die(GX_EXIT_BUG, "mysql_init: out of memory");
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	if (read_timeout) {
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout);
	}
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* A silent reconnect in the middle of a stream would restart it. */
	mysql_options(my, MYSQL_OPT_RECONNECT, &no);
	if (option_file) {
		mysql_options(my, MYSQL_READ_DEFAULT_FILE, option_file);
		mysql_options(my, MYSQL_READ_DEFAULT_GROUP, "client");
	}
	gx_debug("connecting to %s:%u%s%s as %s, database %s, option file %s, "
		 "timeouts connect %us read %us",
		 host ? host : "(option file or localhost)", port,
		 sock ? " socket " : "", sock ? sock : "",
		 user ? user : "(option file or default)",
		 db ? db : "(option file or none)",
		 option_file ? option_file : "(none)", connect_timeout, read_timeout);
	/* Arguments override the option file, which the library reads here;
	 * NULL and 0 leave its values (or the defaults) in place. Remembering
	 * the options keeps the file's host and user for the message. */
	if (!mysql_real_connect(my, host, user, env("GENIUS_DB_PASSWORD"), db,
				port, sock, CLIENT_REMEMBER_OPTIONS))
		connect_failed(my, host, port, user, sock);
	/* An option file's default-character-set must not undo utf8mb4:
	 * latin1 columns are to arrive as UTF-8. */
	if (strcmp(mysql_character_set_name(my), "utf8mb4") &&
	    mysql_set_character_set(my, "utf8mb4"))
		gx_die(GX_EXIT_SERVER, "cannot use utf8mb4: %s", mysql_error(my));
	connected = 1;
	gx_debug("connected: server %s, %s", mysql_get_server_info(my),
		 mysql_get_host_info(my));
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
