/*
 * test_metrics-expo.c: test_metrics's HTTP requests to the metrics port
 * and its reading of a scrape (test_metrics.h): every line checked
 * against the text format 0.0.4 (names, label escapes, HELP and TYPE,
 * families together, counters' _total, histogram buckets) while the
 * samples are kept, and the figures looked up by name, op and status.
 */
#include "test_metrics.h"

/* --- HTTP ------------------------------------------------------------------ */

/* Send req to the metrics port and read to EOF into out (NUL-ended);
 * the bytes read, or -1. */
static long http_raw(const char *req, size_t len, char *out, size_t size)
{
	size_t got;
	int fd;

	if ((fd = hconnect_tcp(metrics_port)) < 0)
		return -1;
	if (write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	got = hread_to_end(fd, out, size);
	close(fd);
	return (long)got;
}

long http(const char *req, char *out, size_t size)
{
	return http_raw(req, strlen(req), out, size);
}

int http_status(const char *resp)
{
	int code;

	return sscanf(resp, "HTTP/1.1 %d ", &code) == 1 ? code : -1;
}

const char *http_body(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	return p != NULL ? p + 4 : NULL;
}

/* --- the exposition --------------------------------------------------------- */

/* The parser's state: the family being read, the histogram series. */
struct fam {
	char		 name[128];
	char		 type[32];
	char		 help_for[128];
	char		 seen[64][128];
	int		 nseen;
	char		 series[200];	/* a histogram's labels but le */
	double		 le, cum;
	bool		 inf;
};

static bool name_char(char ch, bool first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    ch == '_' || ch == ':' || (!first && ch >= '0' && ch <= '9');
}

/* A metric name at *p; its length (0 if none). */
static size_t metric_name(const char *p)
{
	size_t n = 0;

	while (name_char(p[n], n == 0))
		n++;
	return n;
}

/* A label set at p ('{' ... '}'): its end; le's value into le (128
 * bytes; if any), the other labels into rest. */
static const char *labels(const char *p, char *le, char *rest, size_t size)
{
	char name[64], val[128];
	size_t n, v;

	*le = *rest = '\0';
	assert_int_equal(*p++, '{');
	while (*p != '}') {
		for (n = 0; name_char(p[n], n == 0) && p[n] != ':'; n++)
			;
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		assert_int_equal(*p++, '=');
		assert_int_equal(*p++, '"');
		for (v = 0; *p != '"'; v++) {
			assert_true(*p != '\0' && *p != '\n' && v < 127);
			if (*p == '\\') {
				p++;
				assert_non_null(strchr("\\\"n", *p));
			}
			val[v] = *p++;
		}
		val[v] = '\0';
		p++;
		if (strcmp(name, "le") == 0)
			memcpy(le, val, v + 1);
		else
			snprintf(rest + strlen(rest), size - strlen(rest),
			    "%s=%s;", name, val);
		if (*p == ',')
			p++;
		else
			assert_int_equal(*p, '}');
	}
	return p + 1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void comment_line(struct fam *f, const char *line)
{
	char name[128], type[32];
	int i;

	if (strncmp(line, "# HELP ", 7) == 0) {
		assert_int_equal(sscanf(line + 7, "%127s", name), 1);
		assert_int_equal(metric_name(name), strlen(name));
		assert_int_equal(strncmp(name, "aspaced_", 8), 0);
		for (i = 0; i < f->nseen; i++)
			assert_string_not_equal(f->seen[i], name);
		assert_true(f->nseen < 64);
		snprintf(f->seen[f->nseen++], sizeof(f->seen[0]), "%s", name);
		snprintf(f->help_for, sizeof(f->help_for), "%s", name);
		return;
	}
	assert_int_equal(strncmp(line, "# TYPE ", 7), 0);
	assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
	assert_string_equal(name, f->help_for);	/* HELP, then TYPE */
	assert_true(strcmp(type, "counter") == 0 ||
	    strcmp(type, "gauge") == 0 || strcmp(type, "histogram") == 0);
	if (strcmp(type, "counter") == 0)
		assert_true(ends_with(name, "_total"));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->type, sizeof(f->type), "%s", type);
	f->help_for[0] = '\0';
	f->series[0] = '\0';
}

/* A histogram's sample: buckets in order, cumulative, +Inf == _count. */
static void histogram_sample(struct fam *f, const char *name,
    const char *le, const char *rest, double v)
{
	size_t fl = strlen(f->name);
	const char *suffix = name + fl;

	assert_int_equal(strncmp(name, f->name, fl), 0);
	if (strcmp(suffix, "_bucket") == 0) {
		assert_true(*le != '\0');
		if (strcmp(f->series, rest) != 0) {	/* a new series */
			snprintf(f->series, sizeof(f->series), "%s", rest);
			f->le = -1;
			f->cum = 0;
			f->inf = false;
		}
		assert_false(f->inf);
		f->inf = strcmp(le, "+Inf") == 0;
		assert_true(f->inf || strtod(le, NULL) > f->le);
		f->le = f->inf ? INFINITY : strtod(le, NULL);
		assert_true(v >= f->cum);
		f->cum = v;
		return;
	}
	assert_string_equal(rest, f->series);
	assert_true(f->inf);
	assert_true(*le == '\0');
	if (strcmp(suffix, "_count") == 0)
		assert_true(v == f->cum);
	else
		assert_string_equal(suffix, "_sum");
}

static void sample_line(struct fam *f, struct expo *e, const char *line)
{
	char name[128], le[128], rest[200], *end;
	size_t n = metric_name(line);
	const char *p = line + n;
	double v;

	assert_true(n > 0 && n < sizeof(name) && f->name[0] != '\0');
	memcpy(name, line, n);
	name[n] = '\0';
	le[0] = rest[0] = '\0';
	if (*p == '{')
		p = labels(p, le, rest, sizeof(rest));
	assert_int_equal(*p++, ' ');
	v = strtod(p, &end);
	assert_true(end != p && *end == '\0');
	if (strcmp(f->type, "histogram") == 0)
		histogram_sample(f, name, le, rest, v);
	else
		assert_string_equal(name, f->name);	/* its family's */
	assert_true(e->n < MAX_SAMPLES);
	assert_true((size_t)(p - 1 - line) < sizeof(e->s[0].key));
	memcpy(e->s[e->n].key, line, (size_t)(p - 1 - line));
	e->s[e->n].key[p - 1 - line] = '\0';
	e->s[e->n++].v = v;
}

static void parse_expo(const char *body, struct expo *e)
{
	static struct fam f;
	char line[1024];
	const char *nl;
	size_t len;

	memset(&f, 0, sizeof(f));
	e->n = 0;
	for (; *body != '\0'; body = nl + 1) {
		assert_non_null(nl = strchr(body, '\n'));	/* ends a line */
		len = (size_t)(nl - body);
		assert_true(len > 0 && len < sizeof(line));
		memcpy(line, body, len);
		line[len] = '\0';
		if (line[0] == '#')
			comment_line(&f, line);
		else
			sample_line(&f, e, line);
	}
	assert_true(e->n > 0);
}

/* The value of key, which must be there. */
double val(const struct expo *e, const char *key)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->s[i].key, key) == 0)
			return e->s[i].v;
	fail_msg("no sample %s", key);
	return 0;
}

/* A requests_total pair: absent until its first request. */
double req(const struct expo *e, const char *op, const char *status)
{
	char key[200];
	int i;

	snprintf(key, sizeof(key),
	    "aspaced_requests_total{op=\"%s\",status=\"%s\"}", op, status);
	for (i = 0; i < e->n; i++)
		if (strcmp(e->s[i].key, key) == 0)
			return e->s[i].v;
	return 0;
}

/* The sum of the samples whose key starts with prefix and ends with
 * suffix. */
double sum(const struct expo *e, const char *prefix,
    const char *suffix)
{
	double t = 0;
	int i;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->s[i].key, prefix, strlen(prefix)) == 0 &&
		    ends_with(e->s[i].key, suffix))
			t += e->s[i].v;
	return t;
}

/* GET /metrics: 200, the format's content type, a well-formed body. */
void scrape(struct expo *e)
{
	static char resp[HTTP_MAX];
	const char *body;
	long n = -1;
	int i;

	/* The cap may still count connections the test just closed. */
	resp[0] = '\0';
	for (i = 0; i < 200 && http_status(resp) != 200; i++) {
		if (i > 0)
			usleep(10000);
		n = http("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", resp,
		    sizeof(resp));
		if (n <= 0)
			resp[0] = '\0';
	}
	assert_int_equal(http_status(resp), 200);
	assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(body = http_body(resp));
	assert_true(n < (long)sizeof(resp) - 1);
	parse_expo(body, e);
}

/* Scrape until the connections gauge is n (closes are asynchronous). */
void wait_connections(struct expo *e, double n)
{
	int i;

	for (i = 0; i < 500; i++) {
		scrape(e);
		if (val(e, "aspaced_connections") == n)
			return;
		usleep(10000);
	}
	fail_msg("aspaced_connections never came to %g", n);
}
