/* MySQL option files, read as the stock mariadb client reads them (its
 * mysys load_defaults), not as Connector/C does: Connector/C drops a key
 * without "=" (its name keeps the line's newline), takes "=ON" as 0, reads
 * only my.cnf of an !includedir and knows no group suffix. gx-extract
 * therefore never lets the library read a file; it reads them here and sets
 * what they say itself (db.c). */
#include "extract.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const key_names[CNF_NKEYS] = {
	[CNF_HOST] = "host", [CNF_PORT] = "port", [CNF_USER] = "user",
	[CNF_PASSWORD] = "password", [CNF_DATABASE] = "database",
	[CNF_SOCKET] = "socket", [CNF_PROTOCOL] = "protocol",
	[CNF_INIT_COMMAND] = "init-command", [CNF_COMPRESS] = "compress",
	[CNF_PLUGIN_DIR] = "plugin-dir", [CNF_DEFAULT_AUTH] = "default-auth",
	[CNF_SSL] = "ssl", [CNF_SSL_CA] = "ssl-ca", [CNF_SSL_CAPATH] = "ssl-capath",
	[CNF_SSL_CERT] = "ssl-cert", [CNF_SSL_KEY] = "ssl-key",
	[CNF_SSL_CIPHER] = "ssl-cipher", [CNF_SSL_CRL] = "ssl-crl",
	[CNF_SSL_CRLPATH] = "ssl-crlpath", [CNF_TLS_VERSION] = "tls-version",
	[CNF_SSL_VERIFY_SERVER_CERT] = "ssl-verify-server-cert",
};

static int is_bool(enum cnf_key k)
{
	return k == CNF_COMPRESS || k == CNF_SSL || k == CNF_SSL_VERIFY_SERVER_CERT;
}

/* The groups read: the stock client's shared ones, gx's own, and each
 * again with the suffix. */
static int wanted_group(const struct cnf *c, const char *g)
{
	static const char *const groups[] = { "client", "client-server",
					      "client-mariadb", "gx" };
	size_t i, n, sl = c->suffix ? strlen(c->suffix) : 0;

	for (i = 0; i < sizeof groups / sizeof *groups; i++) {
		n = strlen(groups[i]);
		if (!strcmp(g, groups[i]))
			return 1;
		if (sl && !strncmp(g, groups[i], n) && !strcmp(g + n, c->suffix))
			return 1;
	}
	return 0;
}

static noreturn void bad(const char *path, unsigned line, const char *fmt,
			 const char *arg)
{
	gx_die(GX_EXIT_DATA, "%s:%u: %s%s", path, line, fmt, arg);
}

/* The value after "=": trimmed, quotes removed, escapes as mysys has them;
 * outside quotes a '#' after a blank starts a comment. In place. */
static char *unquote(char *v)
{
	char *r = v, *w = v, q = 0, *end;

	while (*r == ' ' || *r == '\t')
		r++;
	if (*r == '"' || *r == '\'')
		q = *r++;
	for (; *r; r++) {
		if (q && *r == q)
			break;
		if (!q && *r == '#' && w > v && (w[-1] == ' ' || w[-1] == '\t'))
			break;
		if (*r == '\\' && r[1]) {
			switch (*++r) {
			case 'n': *w++ = '\n'; break;
			case 't': *w++ = '\t'; break;
			case 'r': *w++ = '\r'; break;
			case 'b': *w++ = '\b'; break;
			case 's': *w++ = ' '; break;
			case '"': case '\'': case '\\': *w++ = *r; break;
			default: *w++ = '\\'; *w++ = *r; break;
			}
			continue;
		}
		*w++ = *r;
	}
	end = w;
	if (!q)
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	*end = '\0';
	return v;
}

/* "1"/"0" for a boolean's text; the stock client takes anything but
 * 1/on/true as off ("yes" turns verification off): gx refuses it. */
static const char *bool_text(const char *path, unsigned line, const char *key,
			     const char *v)
{
	static const char *const on[] = { "1", "on", "true", "yes" };
	static const char *const off[] = { "0", "off", "false", "no" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, on[i]))
			return "1";
		if (!strcasecmp(v, off[i]))
			return "0";
	}
	gx_die(GX_EXIT_DATA, "%s:%u: %s: not a boolean (1/0, on/off, true/false, "
	       "yes/no): '%s'", path, line, key, v);
}

static void set(struct cnf *c, const char *path, unsigned line, char *key,
		const char *v)
{
	int loose = 0, neg = -1;
	char *p;
	size_t k;

	for (p = key; *p; p++)
		if (*p == '_')
			*p = '-';
	if (!strncmp(key, "loose-", 6)) {
		key += 6;
		loose = 1;
	}
	if (!strncmp(key, "skip-", 5) || !strncmp(key, "disable-", 8)) {
		key += key[0] == 's' ? 5 : 8;
		neg = 1;
	} else if (!strncmp(key, "enable-", 7)) {
		key += 7;
		neg = 0;
	}
	for (k = 0; k < CNF_NKEYS; k++)
		if (!strcmp(key, key_names[k]))
			break;
	if (k == CNF_NKEYS) {
		/* [client] serves every client program, each with options of
		 * its own: not ours is no error. A TLS key we do not know is:
		 * misspelt, it would leave the connection unverified. */
		if (!loose && (!strncmp(key, "ssl", 3) || !strncmp(key, "tls", 3)))
			bad(path, line, "unknown TLS option: ", key);
		gx_debug("%s:%u: %s: not a gx setting, ignored", path, line, key);
		return;
	}
	if (neg >= 0 && !is_bool(k))
		bad(path, line, "not a boolean option: ", key);
	if (is_bool(k)) {
		/* "ssl-verify-server-cert" alone is on, as mysys has it. */
		int on = v ? bool_text(path, line, key, v)[0] == '1' : 1;
		v = on != (neg == 1) ? "1" : "0";
	} else if (!v && k == CNF_PASSWORD)
		bad(path, line, "password with no value asks for a prompt, and gx runs "
		    "unattended: give its value, or GENIUS_DB_PASSWORD", "");
	else if (!v)
		bad(path, line, "needs a value: ", key);
	free(c->value[k]);
	free(c->where[k]);
	c->value[k] = gx_strdup(v);
	c->where[k] = gx_malloc(strlen(path) + 24);
	sprintf(c->where[k], "%s:%u", path, line);
}

static void read_file(struct cnf *c, const char *path, int depth);

static int cnf_suffix(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && !strcmp(d->d_name + n - 4, ".cnf");
}

/* !includedir: every *.cnf in it, in name order, as mysys reads them. */
static void read_dir(struct cnf *c, const char *dir, int depth)
{
	struct dirent **list;
	int i, n = scandir(dir, &list, cnf_suffix, alphasort);
	gx_buf path = GX_BUF_INIT;
	size_t dlen = strlen(dir);

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		buf_reset(&path);
		buf_addf(&path, "%.*s/%s", (int)(dlen), dir, list[i]->d_name);
		read_file(c, path.s, depth);
		free(list[i]);
	}
	free(list);
	buf_free(&path);
}

/* One line of a file, as read_file gives it (no newline). */
int cnf_line(struct cnf *c, struct cnf_pos *at, char *line, char **inc, int *dir)
{
	char *p, *e, *v;

	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	if (!*p || *p == '#' || *p == ';')
		return 0;
	if (*p == '!') {
		*dir = !strncmp(p, "!includedir", 11);
		if (!*dir && strncmp(p, "!include", 8))
			bad(at->path, at->line, "unknown directive: ", p);
		*inc = unquote(p + (*dir ? 11 : 8));
		return 1;
	}
	if (*p == '[') {
		if (!(e = strchr(p, ']')))
			bad(at->path, at->line, "a group's name has no ']': ", p);
		for (*e = '\0', p++; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); )
			*--e = '\0';
		at->in = wanted_group(c, p);
		at->any = 1;
		return 0;
	}
	if (!at->any)
		bad(at->path, at->line, "an option before any [group]: ", p);
	if (!at->in)
		return 0;
	v = strchr(p, '=');
	if (v)
		*v++ = '\0';
	for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); )
		*--e = '\0';
	set(c, at->path, at->line, p, v ? unquote(v) : NULL);
	return 0;
}

static void read_file(struct cnf *c, const char *path, int depth)
{
	FILE *f;
	char *line = NULL, *inc;
	size_t cap = 0;
	ssize_t len;
	struct cnf_pos at = { .path = path };
	int dir;

	if (depth > 10)
		gx_die(GX_EXIT_DATA, "%s: !include nested too deep", path);
	if (!(f = fopen(path, "r")))
		gx_die(GX_EXIT_DATA, "cannot read option file %s: %s", path,
		       strerror(errno));
	buf_addf(&c->files, "%s%s", c->files.len ? ", " : "", path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		at.line++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!cnf_line(c, &at, line, &inc, &dir))
			continue;
		if (dir)
			read_dir(c, inc, depth + 1);
		else
			read_file(c, inc, depth + 1);
	}
	if (ferror(f))
		gx_die(GX_EXIT_DATA, "cannot read option file %s: %s", path,
		       strerror(errno));
	free(line);
	fclose(f);
}

/* The default files, as mysys's on Debian: /etc, /etc/mysql, $MARIADB_HOME
 * (or $MYSQL_HOME), the extra file, then the user's ~/.my.cnf. */
void cnf_read(struct cnf *c, const struct cnf_files *f)
{
	const char *home = getenv("MARIADB_HOME"), *user = getenv("HOME");
	gx_buf path = GX_BUF_INIT;
	size_t i;

	memset(c, 0, sizeof *c);
	c->suffix = f->suffix;
	if (f->no_defaults)
		return;
	if (f->file) {
		read_file(c, f->file, 0);
		return;
	}
	if (!home || !*home)
		home = getenv("MYSQL_HOME");
	const char *dirs[] = { "/etc", "/etc/mysql", home && *home ? home : NULL };
	for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		if (!dirs[i])
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/my.cnf", dirs[i]);
		if (!access(path.s, F_OK))
			read_file(c, path.s, 0);
	}
	if (f->extra)
		read_file(c, f->extra, 0);
	if (user && *user) {
		buf_reset(&path);
		buf_addf(&path, "%s/.my.cnf", user);
		if (!access(path.s, F_OK))
			read_file(c, path.s, 0);
	}
	buf_free(&path);
}

void cnf_free(struct cnf *c)
{
	size_t k;

	for (k = 0; k < CNF_NKEYS; k++) {
		free(c->value[k]);
		free(c->where[k]);
	}
	buf_free(&c->files);
}
