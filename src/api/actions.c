/*
 * actions.c: the one table of API actions. Each entry names its target
 * prefix and action, its handler, and whether it only reads (read-only
 * actions run without a transaction). Adding an action is adding a line.
 */
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "common/cleanup.h"

#define ACM "CertificateManager"
#define EXT "CertFleet"
/* read_only, reads_audit */
#define WRITE false, false
#define READ true, false
#define READ_EVENTS true, true

static const struct api_action actions[] = {
	{ ACM, "AddTagsToCertificate", handle_add_tags_to_certificate, WRITE },
	{ ACM, "DeleteCertificate", handle_delete_certificate, WRITE },
	{ ACM, "DescribeCertificate", handle_describe_certificate, READ },
	{ ACM, "ExportCertificate", handle_export_certificate, READ },
	{ ACM, "GetAccountConfiguration", handle_get_account_configuration,
	  READ },
	{ ACM, "GetCertificate", handle_get_certificate, READ },
	{ ACM, "ImportCertificate", handle_import_certificate, WRITE },
	{ ACM, "ListCertificates", handle_list_certificates, READ },
	{ ACM, "ListTagsForCertificate", handle_list_tags_for_certificate,
	  READ },
	{ ACM, "PutAccountConfiguration", handle_put_account_configuration,
	  WRITE },
	{ ACM, "RemoveTagsFromCertificate",
	  handle_remove_tags_from_certificate, WRITE },
	{ ACM, "RenewCertificate", handle_renew_certificate, WRITE },
	{ ACM, "RequestCertificate", handle_request_certificate, WRITE },
	{ ACM, "ResendValidationEmail", handle_resend_validation_email, WRITE },
	{ ACM, "UpdateCertificateOptions", handle_update_certificate_options,
	  WRITE },
	{ EXT, "CreateBinding", handle_create_binding, WRITE },
	{ EXT, "DeleteBinding", handle_delete_binding, WRITE },
	{ EXT, "DescribeBinding", handle_describe_binding, READ },
	{ EXT, "ListBindings", handle_list_bindings, READ },
	{ EXT, "GetCertificateAuthorityCertificate",
	  handle_get_certificate_authority_certificate, READ },
	{ EXT, "LookupEvents", handle_lookup_events, READ_EVENTS },
};

const struct api_action *
api_action_find(const char *target)
{
	const char *dot = strchr(target, '.');
	size_t plen;

	if (dot == NULL)
		return NULL;
	plen = (size_t)(dot - target);
	for (size_t i = 0; i < ELEMENTSOF(actions); i++)
		if (strlen(actions[i].prefix) == plen &&
		    strncmp(actions[i].prefix, target, plen) == 0 &&
		    strcmp(actions[i].name, dot + 1) == 0)
			return &actions[i];
	return NULL;
}
