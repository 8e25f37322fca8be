/*
 * process.c: the standard process_* figures every Prometheus exporter
 * offers, read from /proc/self as the official client libraries do.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics/internal.h"
#include "metrics/registry.h"

/* The fields of /proc/self/stat after the command name, from field 3. */
#define STAT_UTIME 11
#define STAT_STIME 12
#define STAT_STARTTIME 19
#define STAT_VSIZE 20
#define STAT_RSS 21
#define STAT_FIELDS 22

static int
read_stat(unsigned long long *f)
{
	char buf[1024], *p, *end;
	FILE *fp = fopen("/proc/self/stat", "re");
	size_t n;

	if (fp == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p += 2;
	for (int i = 0; i < STAT_FIELDS; i++) {
		if (i == 0) {	/* the state, a letter */
			p = strchr(p, ' ');
			if (p == NULL)
				return -1;
			f[i] = 0;
			continue;
		}
		f[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return 0;
}

static double
boot_time(void)
{
	char line[256];
	double btime = 0;
	FILE *fp = fopen("/proc/stat", "re");

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "btime ", 6) == 0) {
			btime = strtod(line + 6, NULL);
			break;
		}
	fclose(fp);
	return btime;
}

double
process_start_time(void)
{
	unsigned long long f[STAT_FIELDS];
	long ticks = sysconf(_SC_CLK_TCK);
	double btime = boot_time();

	if (ticks <= 0 || btime <= 0 || read_stat(f) < 0)
		return 0;
	return btime + (double)f[STAT_STARTTIME] / (double)ticks;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory stream's own descriptor */
}

void
process_update(struct metric_registry *reg)
{
	unsigned long long f[STAT_FIELDS];
	long ticks = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	int fds;

	if (ticks > 0 && page > 0 && read_stat(f) == 0) {
		metric_set(reg, M_PROCESS_CPU, NULL,
		    (double)(f[STAT_UTIME] + f[STAT_STIME]) / (double)ticks);
		metric_set(reg, M_PROCESS_VSZ, NULL, (double)f[STAT_VSIZE]);
		metric_set(reg, M_PROCESS_RSS, NULL,
		    (double)f[STAT_RSS] * (double)page);
	}
	if ((fds = count_fds()) >= 0)
		metric_set(reg, M_PROCESS_OPEN_FDS, NULL, fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metric_set(reg, M_PROCESS_MAX_FDS, NULL,
		    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
}
