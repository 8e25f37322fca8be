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

static const struct api_action actions[] = {
	{ ACM, "AddTagsToCertificate", handle_add_tags_to_certificate, false },
	{ ACM, "DeleteCertificate", handle_delete_certificate, false },
	{ ACM, "DescribeCertificate", handle_describe_certificate, true },
	{ ACM, "GetAccountConfiguration", handle_get_account_configuration,
	  true },
	{ ACM, "GetCertificate", handle_get_certificate, true },
	{ ACM, "ImportCertificate", handle_import_certificate, false },
	{ ACM, "ListCertificates", handle_list_certificates, true },
	{ ACM, "ListTagsForCertificate", handle_list_tags_for_certificate,
	  true },
	{ ACM, "PutAccountConfiguration", handle_put_account_configuration,
	  false },
	{ ACM, "RemoveTagsFromCertificate",
	  handle_remove_tags_from_certificate, false },
	{ ACM, "RenewCertificate", handle_renew_certificate, false },
	{ ACM, "RequestCertificate", handle_request_certificate, false },
	{ ACM, "ResendValidationEmail", handle_resend_validation_email,
	  false },
	{ EXT, "CreateBinding", handle_create_binding, false },
	{ EXT, "DeleteBinding", handle_delete_binding, false },
	{ EXT, "DescribeBinding", handle_describe_binding, true },
	{ EXT, "ListBindings", handle_list_bindings, true },
	{ EXT, "GetCertificateAuthorityCertificate",
	  handle_get_certificate_authority_certificate, true },
	{ EXT, "LookupEvents", handle_lookup_events, true },
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
