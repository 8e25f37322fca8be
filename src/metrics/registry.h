/*
 * registry.h: counters, gauges and histograms with labels, kept in memory
 * and rendered in either exposition format. The families are fixed when the
 * registry is made (a table of struct metric_desc); children (one per set
 * of label values) appear on first use. Every call takes the registry's
 * mutex, so database threads may update figures too.
 */
#ifndef CERTFLEET_METRICS_REGISTRY_H
#define CERTFLEET_METRICS_REGISTRY_H

#include <stddef.h>

#include "metrics/expo.h"

struct metric_registry;

/* descs must outlive the registry (a static table). */
struct metric_registry *metric_registry_new(const struct metric_desc *descs,
    size_t n);
void metric_registry_free(struct metric_registry *reg);

/*
 * values: one per label of the family, in the table's order; NULL means "".
 * A family without labels takes NULL. Counters only go up: metric_add
 * ignores a negative v. metric_set also works on counters whose value is
 * kept elsewhere (CPU time read from /proc).
 */
void metric_add(struct metric_registry *reg, size_t id,
    const char *const *values, double v);
void metric_set(struct metric_registry *reg, size_t id,
    const char *const *values, double v);
void metric_observe(struct metric_registry *reg, size_t id,
    const char *const *values, double v);
/* The value of a counter or gauge child; 0 if it does not exist yet. */
double metric_get(struct metric_registry *reg, size_t id,
    const char *const *values);

/* Every family that has at least one child, in table order. */
void metric_registry_render(struct metric_registry *reg,
    enum expo_format fmt, struct expo_buf *out);

#endif
