/*
 * registry.c: the in-memory figures behind registry.h. Families hold few
 * children (actions times exceptions at most), so a child is found by a
 * linear search over its label values; what matters is that an update is a
 * short critical section and a render a single pass.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "metrics/registry.h"

struct metric_child {
	char *values[METRIC_MAX_LABELS];
	double value;		/* counter, gauge; histogram: the sum */
	uint64_t count;		/* histogram: observations */
	uint64_t *buckets;	/* histogram: per bucket, not cumulative */
};

struct metric_family {
	const struct metric_desc *desc;
	size_t n_labels;
	struct metric_child *children;
	size_t n_children;
	size_t cap;
};

struct metric_registry {
	pthread_mutex_t lock;
	struct metric_family *families;
	size_t n;
};

struct metric_registry *
metric_registry_new(const struct metric_desc *descs, size_t n)
{
	struct metric_registry *reg = xcalloc(1, sizeof(*reg));

	pthread_mutex_init(&reg->lock, NULL);
	reg->families = xcalloc(n, sizeof(*reg->families));
	reg->n = n;
	for (size_t i = 0; i < n; i++) {
		struct metric_family *f = &reg->families[i];

		f->desc = &descs[i];
		while (f->n_labels < METRIC_MAX_LABELS &&
		    descs[i].labels[f->n_labels] != NULL)
			f->n_labels++;
	}
	return reg;
}

void
metric_registry_free(struct metric_registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		struct metric_family *f = &reg->families[i];

		for (size_t c = 0; c < f->n_children; c++) {
			for (size_t l = 0; l < f->n_labels; l++)
				free(f->children[c].values[l]);
			free(f->children[c].buckets);
		}
		free(f->children);
	}
	free(reg->families);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

static bool
child_matches(const struct metric_family *f, const struct metric_child *c,
    const char *const *values)
{
	for (size_t l = 0; l < f->n_labels; l++)
		if (strcmp(c->values[l], values[l] ? values[l] : "") != 0)
			return false;
	return true;
}

/* Under the lock: the child for values, made on first use. */
static struct metric_child *
child_get(struct metric_registry *reg, size_t id, const char *const *values,
    bool create)
{
	struct metric_family *f;
	struct metric_child *c;

	if (id >= reg->n)
		return NULL;
	f = &reg->families[id];
	for (size_t i = 0; i < f->n_children; i++)
		if (child_matches(f, &f->children[i], values))
			return &f->children[i];
	if (!create)
		return NULL;
	if (f->n_children == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4;
		f->children = xrealloc(f->children, f->cap * sizeof(*c));
	}
	c = &f->children[f->n_children++];
	memset(c, 0, sizeof(*c));
	for (size_t l = 0; l < f->n_labels; l++)
		c->values[l] = xstrdup(values[l] ? values[l] : "");
	if (f->desc->type == METRIC_HISTOGRAM)
		c->buckets = xcalloc(f->desc->n_buckets + 1,
		    sizeof(*c->buckets));
	return c;
}

void
metric_add(struct metric_registry *reg, size_t id, const char *const *values,
    double v)
{
	struct metric_child *c;

	if (v < 0 && reg->families[id].desc->type == METRIC_COUNTER)
		return;
	pthread_mutex_lock(&reg->lock);
	if ((c = child_get(reg, id, values, true)) != NULL)
		c->value += v;
	pthread_mutex_unlock(&reg->lock);
}

void
metric_set(struct metric_registry *reg, size_t id, const char *const *values,
    double v)
{
	struct metric_child *c;

	pthread_mutex_lock(&reg->lock);
	if ((c = child_get(reg, id, values, true)) != NULL)
		c->value = v;
	pthread_mutex_unlock(&reg->lock);
}

void
metric_observe(struct metric_registry *reg, size_t id,
    const char *const *values, double v)
{
	const struct metric_desc *d = reg->families[id].desc;
	struct metric_child *c;
	size_t b = 0;

	while (b < d->n_buckets && v > d->buckets[b])
		b++;
	pthread_mutex_lock(&reg->lock);
	if ((c = child_get(reg, id, values, true)) != NULL &&
	    c->buckets != NULL) {
		c->buckets[b]++;
		c->count++;
		c->value += v;
	}
	pthread_mutex_unlock(&reg->lock);
}

double
metric_get(struct metric_registry *reg, size_t id, const char *const *values)
{
	struct metric_child *c;
	double v = 0;

	pthread_mutex_lock(&reg->lock);
	if ((c = child_get(reg, id, values, false)) != NULL)
		v = c->value;
	pthread_mutex_unlock(&reg->lock);
	return v;
}

static void
render_histogram(const struct metric_family *f, const struct metric_child *c,
    enum expo_format fmt, struct expo_buf *out)
{
	const struct metric_desc *d = f->desc;
	const char *const *values = (const char *const *)c->values;
	struct expo_buf le = { 0 };
	uint64_t cumulative = 0;

	for (size_t b = 0; b <= d->n_buckets; b++) {
		cumulative += c->buckets[b];
		le.len = 0;
		if (b < d->n_buckets)
			expo_le(&le, d->buckets[b], fmt);
		else
			expo_buf_puts(&le, "+Inf");
		expo_buf_add(&le, "", 1);	/* NUL */
		expo_sample_start(out, d->name, "_bucket", d->labels, values,
		    "le", le.data);
		expo_int(out, (int64_t)cumulative);
		expo_buf_add(out, "\n", 1);
	}
	expo_buf_clear(&le);
	expo_sample_start(out, d->name, "_sum", d->labels, values, NULL, NULL);
	expo_number(out, c->value);
	expo_buf_add(out, "\n", 1);
	expo_sample_start(out, d->name, "_count", d->labels, values, NULL,
	    NULL);
	expo_int(out, (int64_t)c->count);
	expo_buf_add(out, "\n", 1);
}

static void
render_family(const struct metric_family *f, enum expo_format fmt,
    struct expo_buf *out)
{
	const struct metric_desc *d = f->desc;

	expo_header(out, d, fmt);
	for (size_t i = 0; i < f->n_children; i++) {
		const struct metric_child *c = &f->children[i];

		if (d->type == METRIC_HISTOGRAM) {
			render_histogram(f, c, fmt, out);
			continue;
		}
		expo_sample_start(out, d->name,
		    d->type == METRIC_COUNTER ? EXPO_COUNTER_SUFFIX : NULL,
		    d->labels, (const char *const *)c->values, NULL, NULL);
		expo_number(out, c->value);
		expo_buf_add(out, "\n", 1);
	}
}

void
metric_registry_render(struct metric_registry *reg, enum expo_format fmt,
    struct expo_buf *out)
{
	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->n; i++)
		if (reg->families[i].n_children > 0)
			render_family(&reg->families[i], fmt, out);
	pthread_mutex_unlock(&reg->lock);
}
