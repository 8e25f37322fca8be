/*
 * migrations.h: the schema migrations compiled into the binary. The table is
 * generated from sql/NNN_name.sql by sql/embed-migrations.sh at build time;
 * store/migrate.c applies it.
 */
#ifndef CERTFLEET_STORE_MIGRATIONS_H
#define CERTFLEET_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
	int version;		/* NNN of the file name: 1, 2, 3, ... */
	const char *name;	/* the rest of the file name, without .sql */
	const char *sql;	/* the file's text, run as one simple query */
};

/* In version order, without gaps, starting at 1. */
extern const struct store_migration store_migrations[];
extern const size_t store_n_migrations;

#endif
