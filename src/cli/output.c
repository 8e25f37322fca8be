/*
 * output.c: the AWS CLI's three output formats. json is jansson with a
 * 4-space indent; text is a port of awscli/text.py (scalars of a structure
 * on one tab-separated row, sorted by key, prefixed by the upper-cased name
 * of the list or structure they came from); table is a port of the
 * formatter's table builder and awscli/table.py's MultiTable, without
 * colours. Scalars print as Python's str() would (True, None).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/output.h"
#include "common/xmalloc.h"

int
output_format_from_string(const char *s)
{
	if (strcmp(s, "json") == 0)
		return OUTPUT_JSON;
	if (strcmp(s, "text") == 0)
		return OUTPUT_TEXT;
	if (strcmp(s, "table") == 0)
		return OUTPUT_TABLE;
	return -1;
}

/* ---- timestamps ---- */

static char *
iso8601(double t)
{
	long long sec = (long long)t;
	long us;
	time_t tt;
	struct tm tm;
	char date[32], frac[32] = "";
	long off;

	if ((double)sec > t)
		sec--;
	us = (long)((t - (double)sec) * 1e6 + 0.5);
	if (us >= 1000000) {
		sec++;
		us -= 1000000;
	}
	tt = (time_t)sec;
	localtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (us)
		snprintf(frac, sizeof(frac), ".%06ld", us);
	off = tm.tm_gmtoff;
	return xasprintf("%s%s%c%02ld:%02ld", date, frac, off < 0 ? '-' : '+',
	    labs(off) / 3600, labs(off) % 3600 / 60);
}

static bool
is_timestamp_member(const char *key, const char *const *members)
{
	for (; *members; members++)
		if (strcmp(*members, key) == 0)
			return true;
	return false;
}

void
output_timestamps(json_t *v, const char *const *members)
{
	const char *key;
	json_t *x;

	if (json_is_array(v))
		for (size_t i = 0; i < json_array_size(v); i++)
			output_timestamps(json_array_get(v, i), members);
	if (!json_is_object(v))
		return;
	json_object_foreach(v, key, x) {
		if (json_is_number(x) && is_timestamp_member(key, members)) {
			_cleanup_free_ char *s = iso8601(json_number_value(x));

			json_object_set_new(v, key, json_string(s));
		} else
			output_timestamps(x, members);
	}
}

/* ---- scalars ---- */

static bool
is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/* Python's repr of a float: the shortest text that reads back the same. */
static char *
real_str(double d)
{
	char buf[64];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (!strpbrk(buf, ".eni"))
		return xasprintf("%s.0", buf);
	return xstrdup(buf);
}

/* Python's str() of a JSON scalar. */
static char *
scalar_str(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrdup(json_string_value(v));
	case JSON_INTEGER:
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return real_str(json_real_value(v));
	case JSON_TRUE:
		return xstrdup("True");
	case JSON_FALSE:
		return xstrdup("False");
	default:
		return xstrdup("None");
	}
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj, sorted, whose value is (or is not) a scalar. */
static size_t
sorted_keys(const json_t *obj, bool scalars, const char ***ret)
{
	const char **keys = xcalloc(json_object_size(obj) + 1, sizeof(char *));
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach((json_t *)obj, key, v)
		if (is_scalar(v) == scalars)
			keys[n++] = key;
	qsort(keys, n, sizeof(char *), key_cmp);
	*ret = keys;
	return n;
}

/* Adds the keys of obj with scalar values to a sorted, unique set. */
static void
key_union(const json_t *obj, bool scalars, const char ***set, size_t *n)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return;
	json_object_foreach((json_t *)obj, key, v) {
		bool seen = false;

		if (is_scalar(v) != scalars)
			continue;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp((*set)[i], key) == 0;
		if (seen)
			continue;
		*set = xrealloc(*set, (*n + 1) * sizeof(char *));
		(*set)[(*n)++] = key;
	}
	if (*n > 1)
		qsort(*set, *n, sizeof(char *), key_cmp);
}

/* ---- text ---- */

static void text_item(FILE *f, const json_t *v, const char *id,
    const char **scalar_keys, size_t nscalar);

static void
text_upper(FILE *f, const char *id)
{
	for (; *id; id++)
		fputc(*id >= 'a' && *id <= 'z' ? *id - 'a' + 'A' : *id, f);
}

static void
text_scalar_list(FILE *f, const json_t *list, const char *id)
{
	bool first = true;
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) {
		_cleanup_free_ char *s = NULL;

		if (!is_scalar(v))
			continue;
		s = scalar_str(v);
		if (id) {
			text_upper(f, id);
			fprintf(f, "\t%s\n", s);
		} else
			fprintf(f, "%s%s", first ? "" : "\t", s);
		first = false;
	}
	if (!id)
		fputc('\n', f);
}

static void
text_list(FILE *f, const json_t *list, const char *id)
{
	bool dicts = false, lists = false, scalars = false;
	size_t i;
	json_t *v;

	if (json_array_size(list) == 0)
		return;
	json_array_foreach(list, i, v) {
		dicts |= json_is_object(v);
		lists |= json_is_array(v);
		scalars |= is_scalar(v);
	}
	if (dicts) {
		const char **keys = NULL;
		size_t n = 0;

		json_array_foreach(list, i, v)
			key_union(v, true, &keys, &n);
		json_array_foreach(list, i, v)
			text_item(f, v, id, keys, n);
		free(keys);
		return;
	}
	if (scalars)
		text_scalar_list(f, list, id);
	if (lists)
		json_array_foreach(list, i, v)
			if (!is_scalar(v))
				text_item(f, v, id, NULL, 0);
}

static bool
key_listed(const char *key, const char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

/*
 * One row of the scalars (those named by the enclosing list when given,
 * else this structure's own), then every other member under its name.
 */
static void
text_dict(FILE *f, const json_t *obj, const char *id,
    const char **scalar_keys, size_t nscalar)
{
	_cleanup_free_ const char **own = NULL, **rest = NULL;
	size_t nrest = 0;
	const char *key;
	json_t *v;

	if (scalar_keys == NULL) {
		nscalar = sorted_keys(obj, true, &own);
		scalar_keys = own;
	}
	if (nscalar > 0 && id)
		text_upper(f, id);
	for (size_t i = 0; i < nscalar; i++) {
		_cleanup_free_ char *s = NULL;

		v = json_object_get(obj, scalar_keys[i]);
		if (v == NULL)
			s = xstrdup("");
		else if (is_scalar(v))
			s = scalar_str(v);
		else
			s = json_dumps(v, JSON_COMPACT);
		fprintf(f, "%s%s", i == 0 && !id ? "" : "\t", s);
	}
	if (nscalar > 0)
		fputc('\n', f);
	rest = xcalloc(json_object_size(obj) + 1, sizeof(char *));
	json_object_foreach((json_t *)obj, key, v)
		if (!key_listed(key, scalar_keys, nscalar))
			rest[nrest++] = key;
	qsort(rest, nrest, sizeof(char *), key_cmp);
	for (size_t i = 0; i < nrest; i++)
		text_item(f, json_object_get(obj, rest[i]), rest[i], NULL, 0);
}

static void
text_item(FILE *f, const json_t *v, const char *id, const char **scalar_keys,
    size_t nscalar)
{
	_cleanup_free_ char *s = NULL;

	if (json_is_object(v))
		text_dict(f, v, id, scalar_keys, nscalar);
	else if (json_is_array(v))
		text_list(f, v, id);
	else {
		s = scalar_str(v);
		fprintf(f, "%s\n", s);
	}
}

void
output_text(FILE *f, const json_t *v, bool paginated)
{
	_cleanup_json_ json_t *copy = NULL;
	json_t *token = json_object_get(v, "NextToken");

	if (!paginated || !json_is_string(token)) {
		text_item(f, v, NULL, NULL, 0);
		return;
	}
	copy = json_copy((json_t *)v);
	json_object_del(copy, "NextToken");
	text_item(f, copy, NULL, NULL, 0);
	fprintf(f, "NEXTTOKEN\t%s\n", json_string_value(token));
}

void
output_json(FILE *f, const json_t *v)
{
	json_dumpf(v, f, JSON_INDENT(4) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	fputc('\n', f);
}

/* ---- table ---- */

/* One boxed section: a title, column headers, rows of cells. */
struct section {
	const char *title;	/* a key of the response, or NULL */
	int indent;		/* nesting depth: '|' on each side */
	const char **headers;
	size_t nheaders;
	char ***rows;
	size_t *rowlen;
	size_t nrows;
	size_t *maxw;		/* widest cell per column, headers included */
	size_t ncols;
};

struct table {
	struct section *s;
	size_t n;
};

/* Characters, not bytes, as Python's len(). */
static size_t
text_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
sec_widths(struct section *sec, const char *const *cells, size_t n)
{
	if (n > sec->ncols) {
		sec->maxw = xrealloc(sec->maxw, n * sizeof(size_t));
		memset(sec->maxw + sec->ncols, 0,
		    (n - sec->ncols) * sizeof(size_t));
		sec->ncols = n;
	}
	for (size_t i = 0; i < n; i++)
		if (text_len(cells[i]) > sec->maxw[i])
			sec->maxw[i] = text_len(cells[i]);
}

static struct section *
table_section(struct table *t, const char *title, int indent)
{
	t->s = xrealloc(t->s, (t->n + 1) * sizeof(*t->s));
	memset(&t->s[t->n], 0, sizeof(*t->s));
	t->s[t->n].title = title;
	t->s[t->n].indent = indent;
	return &t->s[t->n++];
}

static struct section *
table_current(struct table *t)
{
	return t->n ? &t->s[t->n - 1] : table_section(t, NULL, 0);
}

static void
table_header(struct table *t, const char **keys, size_t n)
{
	struct section *sec = table_current(t);

	free(sec->headers);
	sec->headers = xcalloc(n + 1, sizeof(char *));
	if (n > 0)
		memcpy(sec->headers, keys, n * sizeof(char *));
	sec->nheaders = n;
	sec_widths(sec, keys, n);
}

/* Takes the n cells. */
static void
table_row(struct table *t, char **cells, size_t n)
{
	struct section *sec = table_current(t);

	sec->rows = xrealloc(sec->rows, (sec->nrows + 1) * sizeof(char **));
	sec->rowlen = xrealloc(sec->rowlen, (sec->nrows + 1) * sizeof(size_t));
	sec->rows[sec->nrows] = cells;
	sec->rowlen[sec->nrows++] = n;
	sec_widths(sec, (const char *const *)cells, n);
}

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct section *sec = &t->s[i];

		for (size_t r = 0; r < sec->nrows; r++) {
			for (size_t c = 0; c < sec->rowlen[r]; c++)
				free(sec->rows[r][c]);
			free(sec->rows[r]);
		}
		free(sec->rows);
		free(sec->rowlen);
		free(sec->headers);
		free(sec->maxw);
	}
	free(t->s);
}

static char *
cell_str(const json_t *v)
{
	if (v == NULL)
		return xstrdup("");
	if (is_scalar(v))
		return scalar_str(v);
	return json_dumps(v, JSON_COMPACT);
}

/* Python's falsiness, which is how awscli skips empty members. */
static bool
json_empty(const json_t *v)
{
	return v == NULL || json_is_null(v) || json_is_false(v) ||
	    (json_is_object(v) && json_object_size(v) == 0) ||
	    (json_is_array(v) && json_array_size(v) == 0) ||
	    (json_is_string(v) && json_string_length(v) == 0) ||
	    (json_is_integer(v) && json_integer_value(v) == 0);
}

static bool table_build(struct table *t, const char *title, const json_t *cur,
    int indent);

static void
table_from_dict(struct table *t, const json_t *cur, int indent)
{
	_cleanup_free_ const char **headers = NULL, **more = NULL;
	size_t nh = sorted_keys(cur, true, &headers);
	size_t nm = sorted_keys(cur, false, &more);

	if (nh == 1) {
		char **row = xcalloc(2, sizeof(char *));

		row[0] = xstrdup(headers[0]);
		row[1] = cell_str(json_object_get(cur, headers[0]));
		table_row(t, row, 2);
	} else if (nh > 1) {
		char **row = xcalloc(nh, sizeof(char *));

		table_header(t, headers, nh);
		for (size_t i = 0; i < nh; i++)
			row[i] = cell_str(json_object_get(cur, headers[i]));
		table_row(t, row, nh);
	}
	for (size_t i = 0; i < nm; i++)
		table_build(t, more[i], json_object_get(cur, more[i]),
		    indent + 1);
}

static void
table_from_list(struct table *t, const json_t *cur, int indent,
    const char *title)
{
	_cleanup_free_ const char **headers = NULL, **more = NULL;
	size_t nh = 0, nm = 0, i;
	json_t *el;

	json_array_foreach(cur, i, el) {
		key_union(el, true, &headers, &nh);
		key_union(el, false, &more, &nm);
	}
	table_header(t, headers, nh);
	json_array_foreach(cur, i, el) {
		char **row = xcalloc(nh + 1, sizeof(char *));

		if (i > 0 && nm > 0) {
			table_section(t, title, indent);
			table_header(t, headers, nh);
		}
		for (size_t h = 0; h < nh; h++)
			row[h] = cell_str(json_object_get(el, headers[h]));
		table_row(t, row, nh);
		for (size_t m = 0; m < nm; m++)
			if (json_object_get(el, more[m]))
				table_build(t, more[m],
				    json_object_get(el, more[m]), indent + 1);
	}
}

static void
table_from_items(struct table *t, const json_t *cur)
{
	size_t i, k;
	json_t *el, *x;

	json_array_foreach(cur, i, el) {
		bool flat = json_is_array(el);
		char **row;

		if (is_scalar(el)) {
			row = xcalloc(1, sizeof(char *));
			row[0] = scalar_str(el);
			table_row(t, row, 1);
			continue;
		}
		json_array_foreach(el, k, x)
			flat &= is_scalar(x);
		if (!flat) {
			table_build(t, NULL, el, 0);
			continue;
		}
		row = xcalloc(json_array_size(el) + 1, sizeof(char *));
		json_array_foreach(el, k, x)
			row[k] = scalar_str(x);
		table_row(t, row, json_array_size(el));
	}
}

static bool
table_build(struct table *t, const char *title, const json_t *cur, int indent)
{
	if (json_empty(cur))
		return false;
	if (title)
		table_section(t, title, indent);
	if (json_is_array(cur)) {
		if (json_is_object(json_array_get(cur, 0)))
			table_from_list(t, cur, indent, title);
		else
			table_from_items(t, cur);
	}
	if (json_is_object(cur))
		table_from_dict(t, cur, indent);
	return true;
}

/* Python's round(): halves go to the even neighbour. */
static long
round_even(double x)
{
	long r = (long)x;
	double diff = x - (double)r;

	if (diff > 0.5 || (diff == 0.5 && (r & 1)))
		r++;
	return r;
}

/* Column widths that add up to max_width, as Section.calculate_column_widths. */
static long *
sec_scaled(const struct section *sec, long max_width)
{
	long *w = xcalloc(sec->ncols + 1, sizeof(long));
	long sum = 0, off = 0;

	for (size_t i = 0; i < sec->ncols; i++)
		sum += (long)sec->maxw[i] + 4;
	if (sec->ncols == 0)
		return w;
	for (size_t i = 0; i < sec->ncols; i++) {
		w[i] = round_even((double)max_width / (double)sum *
		    (double)((long)sec->maxw[i] + 4));
		off += w[i];
	}
	off -= max_width;
	while (off > 0)
		for (size_t i = 0; i < sec->ncols && off > 0; i++, off--)
			w[i]--;
	while (off < 0)
		for (size_t i = sec->ncols; i > 0 && off < 0; i--, off++)
			w[i - 1]++;
	return w;
}

static long
sec_total_width(const struct section *sec)
{
	long total = 2 + 2L * sec->indent;
	long titled = sec->title ? (long)text_len(sec->title) + total : 0;

	for (size_t i = 0; i < sec->ncols; i++)
		total += (long)sec->maxw[i] + 4;
	return titled > total ? titled : total;
}

static void
repeat(FILE *f, char c, long n)
{
	for (; n > 0; n--)
		fputc(c, f);
}

static void
center(FILE *f, const char *text, long length, const char *left,
    const char *right)
{
	long tl = (long)text_len(text);
	long start = length / 2 - tl / 2 - 1;

	fputs(left, f);
	repeat(f, ' ', start);
	fputs(text, f);
	repeat(f, ' ', length - (long)strlen(right) -
		(long)strlen(left) - start - tl);
	fputs(right, f);
}

static void
align_left(FILE *f, const char *text, long length, const char *left)
{
	long tl = (long)text_len(text), l = (long)strlen(left);
	long pad = length - (tl + 2 + l + 1) >= 0 ? 2 : 0;

	fputs(left, f);
	repeat(f, ' ', pad);
	fputs(text, f);
	repeat(f, ' ', length - (l + pad + tl) - 1);
	fputc('|', f);
}

static void
line_start(FILE *f, const struct section *sec)
{
	repeat(f, '|', sec->indent);
}

static void
line_end(FILE *f, const struct section *sec)
{
	repeat(f, '|', sec->indent);
	fputc('\n', f);
}

static void
line_break(FILE *f, const struct section *sec, const long *w)
{
	line_start(f, sec);
	for (size_t i = 0; i < sec->ncols; i++) {
		if (i == 0)
			fputc('+', f);
		repeat(f, '-', w[i] - (i == 0 ? 2 : 1));
		fputc('+', f);
	}
	line_end(f, sec);
}

static void
render_section(FILE *f, const struct section *sec, long max_width)
{
	long width = max_width - 2L * sec->indent;
	_cleanup_free_ long *w = sec_scaled(sec, width);

	if (sec->title && *sec->title) {
		line_start(f, sec);
		center(f, sec->title, width, "|", "|");
		line_end(f, sec);
		if (sec->nheaders == 0 && sec->nrows == 0) {
			line_start(f, sec);
			fputc('+', f);
			repeat(f, '-', width - 2);
			fputc('+', f);
			line_end(f, sec);
		}
	}
	if (sec->nheaders) {
		line_break(f, sec, w);
		line_start(f, sec);
		for (size_t i = 0; i < sec->nheaders; i++)
			center(f, sec->headers[i], w[i], i == 0 ? "|" : "", "|");
		line_end(f, sec);
	}
	if (sec->nrows == 0 || sec->ncols == 0)
		return;
	line_break(f, sec, w);
	for (size_t r = 0; r < sec->nrows; r++) {
		line_start(f, sec);
		for (size_t c = 0; c < sec->rowlen[r] && c < sec->ncols; c++)
			align_left(f, sec->rows[r][c], w[c], c == 0 ? "|" : "");
		line_end(f, sec);
	}
	line_break(f, sec, w);
}

/* A one-row section with headers becomes header/value rows. */
static void
make_vertical(struct section *sec)
{
	char **row = sec->rows[0];
	size_t n = sec->rowlen[0], nh = sec->nheaders;

	free(sec->rows);
	free(sec->rowlen);
	free(sec->maxw);
	sec->rows = NULL;
	sec->rowlen = NULL;
	sec->maxw = NULL;
	sec->nrows = sec->ncols = 0;
	for (size_t i = 0; i < nh; i++) {
		struct table one = { sec, 1 };
		char **pair = xcalloc(2, sizeof(char *));

		pair[0] = xstrdup(sec->headers[i]);
		pair[1] = i < n ? row[i] : xstrdup("");
		table_row(&one, pair, 2);
	}
	for (size_t i = nh; i < n; i++)
		free(row[i]);
	free(row);
	free(sec->headers);
	sec->headers = NULL;
	sec->nheaders = 0;
}

static long
table_width(const struct table *t)
{
	long max = 0;

	for (size_t i = 0; i < t->n; i++)
		if (sec_total_width(&t->s[i]) > max)
			max = sec_total_width(&t->s[i]);
	return max;
}

void
output_table(FILE *f, const json_t *v, const char *title, int width)
{
	struct table t = { 0 };
	long max;

	if (!table_build(&t, title, v, 0)) {
		table_free(&t);
		return;
	}
	max = table_width(&t);
	if (width > 0 && max > width) {
		for (size_t i = 0; i < t.n; i++)
			if (t.s[i].nrows == 1 && t.s[i].nheaders)
				make_vertical(&t.s[i]);
		max = table_width(&t);
	}
	repeat(f, '-', max);
	fputc('\n', f);
	for (size_t i = 0; i < t.n; i++)
		render_section(f, &t.s[i], max);
	table_free(&t);
}

void
output_print(FILE *f, const json_t *v, enum output_format format,
    const char *title, bool paginated, int width)
{
	if (v == NULL || (json_is_object(v) && json_object_size(v) == 0))
		return;
	switch (format) {
	case OUTPUT_JSON:
		output_json(f, v);
		break;
	case OUTPUT_TEXT:
		output_text(f, v, paginated);
		break;
	case OUTPUT_TABLE:
		output_table(f, v, title, width);
		break;
	}
}
