/* The connection to the Genius source: settings, connect, the source clock. */
#include "extract.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

/* What we tried to connect to, for the message: the environment's values,
 * else the option file's (read into mysql->options, which the library
 * offers no getter for), else the library's defaults. */
static noreturn void connect_failed(MYSQL *my, const char *host, unsigned port,
				    const char *user, const char *sock)
{
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
	gx_die(GX_EXIT_SERVER, "cannot connect to MySQL at %s as %s: %s", at.s,
	       user, err);
}

MYSQL *db_connect(const char *option_file, unsigned connect_timeout,
		  unsigned read_timeout)
{
	const char *host = env("GENIUS_DB_HOST"), *user = env("GENIUS_DB_USER");
	const char *db = env("GENIUS_DB_NAME"), *sock = env("GENIUS_DB_SOCKET");
	unsigned port = env_port();
	my_bool no = 0;
	MYSQL *my = mysql_init(NULL);

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
	gx_debug("connected: server %s, %s", mysql_get_server_info(my),
		 mysql_get_host_info(my));
	return my;
}

void db_exec(MYSQL *my, const char *sql)
{
	gx_debug("sql: %s", sql);
	if (mysql_query(my, sql))
		gx_die(GX_EXIT_SERVER, "%s: %s", sql, mysql_error(my));
}

void db_clock(MYSQL *my, struct db_clock *c)
{
	static const char sql[] =
		"SELECT NOW(6), @@session.time_zone, @@system_time_zone";
	MYSQL_RES *res;
	MYSQL_ROW row;

	gx_debug("sql: %s", sql);
	if (mysql_query(my, sql) || !(res = mysql_store_result(my)))
		gx_die(GX_EXIT_SERVER, "cannot read the source clock: %s",
		       mysql_error(my));
	row = mysql_fetch_row(res);
	if (!row || mysql_num_fields(res) != 3 || !row[0])
		gx_die(GX_EXIT_SERVER, "cannot read the source clock: no row");
	c->now = gx_strdup(row[0]);
	c->time_zone = gx_strdup(row[1] ? row[1] : "");
	c->system_time_zone = gx_strdup(row[2] ? row[2] : "");
	mysql_free_result(res);
}

void db_clock_free(struct db_clock *c)
{
	free(c->now);
	free(c->time_zone);
	free(c->system_time_zone);
}
