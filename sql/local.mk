# sql: the schema, as numbered migrations that certfleetd carries compiled
# in. Add every new migration file to MIGRATION_FILES, in order.
MIGRATION_FILES = \
	sql/001_initial.sql \
	sql/002_audit_host.sql \
	sql/003_issuance.sql \
	sql/004_renewal.sql \
	sql/005_check_results.sql
EXTRA_DIST += $(MIGRATION_FILES) sql/embed-migrations.sh
CLEANFILES += sql/migrations.c

sql/migrations.c: $(MIGRATION_FILES) sql/embed-migrations.sh
	$(AM_V_GEN)$(MKDIR_P) sql && \
	$(SHELL) $(srcdir)/sql/embed-migrations.sh $(srcdir) \
	    $(MIGRATION_FILES) > $@-t && mv $@-t $@
