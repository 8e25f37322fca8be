/*
 * bindings.c: CertFleet.CreateBinding, DescribeBinding, ListBindings and
 * DeleteBinding. A binding ties a certificate to a consumer on one fleet
 * host: the files to write (each with owner, group and mode), the reload
 * action that makes the consumer pick them up, and the endpoint that
 * serves the result. The daemon whose [daemon] host_name is the binding's
 * HostName deploys it; CreateBinding kicks that deployment after commit.
 *
 * Requests are checked here, before anything is stored: absolute paths
 * only, modes in octal without special bits, owners and groups that exist
 * (looked up when the binding is for this host; another host's names are
 * checked for syntax and resolved by the daemon that deploys them).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/arn.h"
#include "common/base64.h"
#include "common/json_wipe.h"
#include "common/xmalloc.h"
#include "store/bindings.h"

#define TOKEN_PREFIX "cfb1:"
#define PATH_MAX_LEN 4096
#define ARGV_MAX 64
#define TIMEOUT_DEFAULT 30
#define TIMEOUT_MAX 3600

/* The Files members, their stored content names and default modes. */
static const struct file_kind {
	const char *member;
	const char *content;
	const char *default_mode;
} file_kinds[] = {
	{ "Certificate", "CERTIFICATE", "0644" },
	{ "Chain", "CHAIN", "0644" },
	{ "FullChain", "FULLCHAIN", "0644" },
	{ "PrivateKey", "KEY", "0600" },
};

static int
fail_binding_not_found(struct api_call *call, const char *arn)
{
	return api_fail(call, "ResourceNotFoundException",
	    "Could not find binding %s.", arn);
}

/* An ARN member of the given resource type ("certificate", "binding"). */
static const char *
input_typed_arn(struct input *in, const char *member, bool required,
    const char *type)
{
	struct arn_parts parts;
	const char *s;

	if (!required && json_object_get(in->obj, member) == NULL)
		return NULL;
	s = input_arn(in, member);
	if (s != NULL && (arn_parse(s, &parts, NULL) < 0 ||
	    strcmp(parts.resource_type, type) != 0)) {
		input_fatal(in, "InvalidArnException",
		    "String '%s' is not a valid %s ARN.", s, type);
		return NULL;
	}
	return s;
}

/* ---- checks ----------------------------------------------------------- */

static bool
name_chars_ok(const char *s, const char *extra)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL))
			return false;
	return *s != '\0';
}

/* Absolute, normalised: no "." or ".." component, no empty one. */
static bool
path_ok(const char *path)
{
	const char *p = path;

	if (*p != '/')
		return false;
	while (*p == '/') {
		const char *c = p + 1;
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + len;
	}
	return *p == '\0';
}

/* "0640", "640": octal, permission bits only. */
static bool
mode_ok(const char *s, unsigned *mode)
{
	unsigned long v;
	char *end;

	if (strlen(s) < 3 || strlen(s) > 4 || strspn(s, "01234567") !=
	    strlen(s))
		return false;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || v > 0777)
		return false;
	*mode = (unsigned)v;
	return true;
}

static bool
all_digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

static bool
user_exists(const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (all_digits(name))
		return getpwuid_r((uid_t)strtoul(name, NULL, 10), &pw, buf,
		    sizeof(buf), &res) == 0 && res != NULL;
	return getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL;
}

static bool
group_exists(const char *name)
{
	struct group gr, *res = NULL;
	char buf[8192];

	if (all_digits(name))
		return getgrgid_r((gid_t)strtoul(name, NULL, 10), &gr, buf,
		    sizeof(buf), &res) == 0 && res != NULL;
	return getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 &&
	    res != NULL;
}

/* Owner or Group: a name in the portable set or a numeric id. */
static void
check_principal(struct input *in, const char *member, const char *value,
    bool local, bool group)
{
	_cleanup_free_ char *where = input_where(in, member);

	if (!name_chars_ok(value, "._-") || value[0] == '-')
		input_fatal(in, "ValidationException", "Value '%s' at '%s' is "
		    "not a valid user or group name.", value, where);
	else if (local && !(group ? group_exists(value) : user_exists(value)))
		input_fatal(in, "ValidationException", "Value '%s' at '%s': "
		    "no such %s on host %s.", value, where,
		    group ? "group" : "user", in->call->env->host_name);
}

/* ---- decoding CreateBinding --------------------------------------------- */

static json_t *
file_from_input(struct input *in, const json_t *obj,
    const struct file_kind *k, bool local)
{
	_cleanup_free_ char *path = xasprintf("files.%s", k->member);
	const char *p, *owner, *group, *mode;
	struct input sub;
	unsigned m = 0;
	json_t *out = NULL;

	if (!json_is_object(obj)) {
		input_fatal(in, "SerializationException", "Files.%s must be a "
		    "structure with Path, Owner, Group and Mode", k->member);
		return NULL;
	}
	input_init_nested(&sub, in, obj, path);
	p = input_string(&sub, "Path", true, 1, PATH_MAX_LEN);
	owner = input_string(&sub, "Owner", false, 1, 32);
	group = input_string(&sub, "Group", false, 1, 32);
	mode = input_string(&sub, "Mode", false, 3, 4);
	if (p != NULL && !path_ok(p))
		input_fatal(&sub, "ValidationException", "Files.%s.Path '%s' "
		    "must be an absolute path without '.', '..' or empty "
		    "components.", k->member, p);
	if (owner != NULL)
		check_principal(&sub, "Owner", owner, local, false);
	if (group != NULL)
		check_principal(&sub, "Group", group, local, true);
	if (!mode_ok(mode ? mode : k->default_mode, &m))
		input_fatal(&sub, "ValidationException", "Files.%s.Mode '%s' "
		    "must be an octal file mode from 000 to 0777.", k->member,
		    mode);
	else if (strcmp(k->content, "KEY") == 0 && (m & 0007) != 0)
		input_fatal(&sub, "ValidationException", "Files.PrivateKey."
		    "Mode '%s' must not grant access to others.", mode);
	if (p != NULL && sub.errors.count == 0 && sub.fatal_type == NULL) {
		char ms[8];

		snprintf(ms, sizeof(ms), "%04o", m);
		out = json_pack("{s:s,s:s,s:s,s:s,s:s}", "content", k->content,
		    "path", p, "owner", owner ? owner : "root", "group",
		    group ? group : "root", "mode", ms);
	}
	input_merge(in, &sub);
	return out;
}

static bool
known_file_member(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(file_kinds); i++)
		if (strcmp(file_kinds[i].member, key) == 0)
			return true;
	return false;
}

static bool
path_taken(const json_t *files, const char *path)
{
	size_t i;
	const json_t *f;

	json_array_foreach(files, i, f)
		if (strcmp(json_string_value(json_object_get(f, "path")),
		    path) == 0)
			return true;
	return false;
}

/* Files: at least one target, every path distinct. */
static json_t *
files_from_input(struct input *in, bool local)
{
	const json_t *obj = input_object(in, "Files", true);
	json_t *files;
	const char *key;
	const json_t *v;

	if (obj == NULL)
		return NULL;
	json_object_foreach((json_t *)obj, key, v)
		if (!known_file_member(key)) {
			input_fatal(in, "ValidationException", "Files has an "
			    "unknown member '%s': use Certificate, Chain, "
			    "FullChain or PrivateKey.", key);
			return NULL;
		}
	files = json_array();
	for (size_t i = 0; i < ELEMENTSOF(file_kinds); i++) {
		const json_t *f = json_object_get(obj, file_kinds[i].member);
		json_t *t;

		if (f == NULL || json_is_null(f))
			continue;
		t = file_from_input(in, f, &file_kinds[i], local);
		if (t == NULL)
			continue;
		if (path_taken(files, json_string_value(json_object_get(t,
		    "path"))))
			input_fatal(in, "ValidationException", "Files: path "
			    "'%s' is given twice.", json_string_value(
			    json_object_get(t, "path")));
		json_array_append_new(files, t);
	}
	if (json_array_size(files) == 0 && in->fatal_type == NULL &&
	    in->errors.count == 0)
		input_fatal(in, "ValidationException", "Files must name at "
		    "least one of Certificate, Chain, FullChain or "
		    "PrivateKey.");
	return files;
}

static json_t *
command_from_input(struct input *in, struct input *sub, const json_t *cmd)
{
	json_t *argv = json_array();
	const json_t *a;
	size_t i;

	if (json_array_size(cmd) < 1 || json_array_size(cmd) > ARGV_MAX) {
		input_fatal(in, "ValidationException", "Reload.Command must "
		    "have 1 to %d arguments.", ARGV_MAX);
		return argv;
	}
	json_array_foreach(cmd, i, a) {
		if (!json_is_string(a) || json_string_length(a) >
		    PATH_MAX_LEN) {
			input_fatal(sub, "ValidationException", "Reload.Command"
			    " arguments must be strings of at most %d "
			    "characters.", PATH_MAX_LEN);
			break;
		}
		if (i == 0 && !path_ok(json_string_value(a))) {
			input_fatal(sub, "ValidationException", "Reload.Command"
			    " must start with an absolute program path, not "
			    "'%s'.", json_string_value(a));
			break;
		}
		json_array_append(argv, (json_t *)a);
	}
	return argv;
}

/* Reload: SystemdUnit or Command (not both), TimeoutSeconds. */
static json_t *
reload_from_input(struct input *in)
{
	const json_t *obj = input_object(in, "Reload", false);
	const char *unit;
	const json_t *cmd;
	struct input sub;
	int64_t timeout = TIMEOUT_DEFAULT;
	json_t *out = NULL;

	if (obj == NULL)
		return NULL;
	input_init_nested(&sub, in, obj, "reload");
	unit = input_string(&sub, "SystemdUnit", false, 3, 256);
	cmd = input_array(&sub, "Command", false, 0, SIZE_MAX);
	(void)input_int(&sub, "TimeoutSeconds", false, 1, TIMEOUT_MAX,
	    &timeout);
	if ((unit != NULL) == (cmd != NULL))
		input_fatal(&sub, "ValidationException", "Reload needs exactly "
		    "one of SystemdUnit or Command.");
	else if (unit != NULL && (!name_chars_ok(unit, ":_.\\@-") ||
	    strchr(unit, '.') == NULL))
		input_fatal(&sub, "ValidationException", "Reload.SystemdUnit "
		    "'%s' is not a unit name (like nginx.service).", unit);
	if (sub.fatal_type == NULL && sub.errors.count == 0) {
		out = json_pack("{s:I}", "timeout_seconds", (json_int_t)timeout);
		if (unit != NULL)
			json_object_set_new(out, "systemd_unit",
			    json_string(unit));
		else
			json_object_set_new(out, "command",
			    command_from_input(in, &sub, cmd));
	}
	input_merge(in, &sub);
	return out;
}

struct create_request {
	const char *cert_arn, *host, *address, *server_name;
	int64_t port;
	json_t *files, *reload;
};

static void
endpoint_from_input(struct input *in, struct create_request *r)
{
	const json_t *obj = input_object(in, "Endpoint", true);
	struct input sub;

	if (obj == NULL)
		return;
	input_init_nested(&sub, in, obj, "endpoint");
	r->address = input_string(&sub, "Address", true, 1, 253);
	(void)input_int(&sub, "Port", true, 1, 65535, &r->port);
	r->server_name = input_string(&sub, "ServerName", false, 1, 253);
	if (r->address != NULL && !name_chars_ok(r->address, ".-:_"))
		input_fatal(&sub, "ValidationException", "Endpoint.Address "
		    "'%s' is not a host name or IP address.", r->address);
	if (r->server_name != NULL && !name_chars_ok(r->server_name, ".-*_"))
		input_fatal(&sub, "ValidationException", "Endpoint.ServerName "
		    "'%s' is not a host name.", r->server_name);
	input_merge(in, &sub);
}

static int
decode_create(struct api_call *call, struct create_request *r)
{
	struct input in;
	bool local;

	input_init(&in, call);
	r->cert_arn = input_typed_arn(&in, "CertificateArn", true,
	    "certificate");
	r->host = input_string(&in, "HostName", true, 1, 253);
	if (r->host != NULL && !name_chars_ok(r->host, ".-_"))
		input_fatal(&in, "ValidationException", "HostName '%s' is not "
		    "a host name.", r->host);
	endpoint_from_input(&in, r);
	local = r->host != NULL &&
	    strcmp(r->host, call->env->host_name) == 0;
	r->files = files_from_input(&in, local);
	r->reload = reload_from_input(&in);
	return input_finish(&in);
}

/* ---- output ------------------------------------------------------------ */

static void
set_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_string(s));
}

static json_t *
files_json(const char *stored)
{
	json_t *targets = json_loads(stored ? stored : "[]", 0, NULL);
	json_t *out = json_object();
	const json_t *t;
	size_t i;

	json_array_foreach(targets, i, t) {
		const char *content = json_string_value(json_object_get(t,
		    "content"));

		for (size_t k = 0; k < ELEMENTSOF(file_kinds); k++)
			if (content && strcmp(content, file_kinds[k].content)
			    == 0)
				json_object_set_new(out, file_kinds[k].member,
				    json_pack("{s:O,s:O,s:O,s:O}", "Path",
				    json_object_get(t, "path"), "Owner",
				    json_object_get(t, "owner"), "Group",
				    json_object_get(t, "group"), "Mode",
				    json_object_get(t, "mode")));
	}
	json_decref(targets);
	return out;
}

static json_t *
reload_json(const char *stored)
{
	json_t *r = stored ? json_loads(stored, 0, NULL) : NULL;
	json_t *out;

	if (r == NULL)
		return NULL;
	out = json_pack("{s:O}", "TimeoutSeconds", json_object_get(r,
	    "timeout_seconds"));
	if (json_object_get(r, "systemd_unit") != NULL)
		json_object_set(out, "SystemdUnit", json_object_get(r,
		    "systemd_unit"));
	if (json_object_get(r, "command") != NULL)
		json_object_set(out, "Command", json_object_get(r, "command"));
	json_decref(r);
	return out;
}

static json_t *
binding_json(const struct store_binding *b)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "BindingArn", b->arn,
	    "CertificateArn", b->certificate_arn, "HostName", b->host_name,
	    "DeploymentStatus", b->deploy_status, "CreatedAt",
	    (json_int_t)b->created_at);
	json_t *ep = json_object();
	json_t *reload = reload_json(b->reload);

	set_str(ep, "Address", b->endpoint_address);
	if (b->endpoint_port > 0)
		json_object_set_new(ep, "Port", json_integer(b->endpoint_port));
	set_str(ep, "ServerName", b->server_name);
	json_object_set_new(o, "Endpoint", ep);
	json_object_set_new(o, "Files", files_json(b->file_targets));
	if (reload != NULL)
		json_object_set_new(o, "Reload", reload);
	if (b->deployed_version > 0) {
		json_object_set_new(o, "DeployedVersion",
		    json_integer(b->deployed_version));
		set_str(o, "DeployedFingerprint", b->deployed_fingerprint);
		json_object_set_new(o, "DeployedAt",
		    json_integer(b->deployed_at));
	}
	set_str(o, "DeploymentError", b->deploy_error);
	return o;
}

/* ---- handlers ----------------------------------------------------------- */

static int
create_fail(struct api_call *call, int rc, const char *arn, const char *err)
{
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc == -EPERM)
		return api_fail(call, "InvalidStateException", "%s", err);
	return api_fail_store(call, rc, err);
}

int
handle_create_binding(struct api_call *call, PGconn *conn)
{
	struct create_request r = { 0 };
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *arn = NULL;
	char *files = NULL, *reload = NULL;	/* jansson's: json_text_free */
	char uuid[37];
	int64_t id;
	int rc = -1;

	if (decode_create(call, &r) < 0)
		goto out;
	uuid_v4(uuid);
	arn = arn_build(call->env->partition, call->env->region,
	    call->env->account, "binding", uuid);
	files = json_dumps(r.files, JSON_COMPACT);
	reload = r.reload ? json_dumps(r.reload, JSON_COMPACT) : NULL;
	rc = store_binding_create(conn, &(struct store_binding_new){
	    .arn = arn, .certificate_arn = r.cert_arn, .host_name = r.host,
	    .endpoint_address = r.address, .endpoint_port = (int)r.port,
	    .server_name = r.server_name, .file_targets = files,
	    .reload = reload }, &id, &err);
	if (rc < 0) {
		rc = create_fail(call, rc, r.cert_arn, err);
		goto out;
	}
	call->kicks |= API_KICK_DEPLOY;
	rc = api_ok(call, json_pack("{s:s}", "BindingArn", arn));
out:
	json_text_free(files);
	json_text_free(reload);
	json_decref(r.files);
	json_decref(r.reload);
	return rc;
}

static const char *
decode_binding_arn(struct api_call *call)
{
	struct input in;
	const char *arn;

	input_init(&in, call);
	arn = input_typed_arn(&in, "BindingArn", true, "binding");
	return input_finish(&in) < 0 ? NULL : arn;
}

int
handle_describe_binding(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct store_binding *b = NULL;
	const char *arn = decode_binding_arn(call);
	int rc;

	if (arn == NULL)
		return -1;
	rc = store_binding_get(conn, arn, &b, &err);
	if (rc == -ENOENT)
		return fail_binding_not_found(call, arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	rc = api_ok(call, json_pack("{s:o}", "Binding", binding_json(b)));
	store_binding_free(b);
	return rc;
}

int
handle_delete_binding(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	const char *arn = decode_binding_arn(call);
	int rc;

	if (arn == NULL)
		return -1;
	rc = store_binding_delete(conn, arn, NULL, &err);
	if (rc == -ENOENT)
		return fail_binding_not_found(call, arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	return api_ok(call, NULL);
}

/* ---- ListBindings -------------------------------------------------------- */

static char *
token_encode(int64_t id)
{
	_cleanup_free_ char *raw = xasprintf("%s%lld", TOKEN_PREFIX,
	    (long long)id);

	return base64_encode(raw, strlen(raw));
}

static int
token_decode(const char *token, int64_t *id)
{
	_cleanup_free_ unsigned char *raw = NULL;
	size_t len;
	long long n;
	char end;

	if (base64_decode(token, strlen(token), &raw, &len) < 0)
		return -EINVAL;
	raw = xrealloc(raw, len + 1);
	raw[len] = '\0';
	if (strncmp((char *)raw, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
	    sscanf((char *)raw + strlen(TOKEN_PREFIX), "%lld%c", &n,
	    &end) != 1 || n < 0)
		return -EINVAL;
	*id = n;
	return 0;
}

static int
decode_list(struct api_call *call, struct store_binding_query *q)
{
	struct input in;
	const char *token;
	int64_t max = 100;

	input_init(&in, call);
	q->certificate_arn = input_typed_arn(&in, "CertificateArn", false,
	    "certificate");
	q->host_name = input_string(&in, "HostName", false, 1, 253);
	token = input_string(&in, "NextToken", false, 1, 10000);
	(void)input_int(&in, "MaxItems", false, 1, 1000, &max);
	q->max_items = (int)max;
	if (token != NULL && token_decode(token, &q->after_id) < 0)
		input_fatal(&in, "InvalidArgsException", "The NextToken is not "
		    "valid: pass the NextToken of the previous ListBindings "
		    "answer unchanged.");
	return input_finish(&in);
}

int
handle_list_bindings(struct api_call *call, PGconn *conn)
{
	struct store_binding_query q = { 0 };
	_cleanup_free_ char *err = NULL;
	struct store_binding *v = NULL;
	json_t *out, *arr;
	size_t n = 0;
	bool more = false;
	int rc;

	if (decode_list(call, &q) < 0)
		return -1;
	rc = store_binding_list(conn, &q, &v, &n, &more, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, q.certificate_arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, binding_json(&v[i]));
	out = json_pack("{s:o}", "Bindings", arr);
	if (more && n > 0) {
		_cleanup_free_ char *token = token_encode(v[n - 1].id);

		json_object_set_new(out, "NextToken", json_string(token));
	}
	store_bindings_free(v, n);
	return api_ok(call, out);
}
