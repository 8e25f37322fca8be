/*
 * commands.c: the table of certfleet subcommands. Shapes mirror ACM's
 * service model (acm-service-2.json); only what the CLI needs to build and
 * check a request is kept: types, members and which are required. Enums,
 * lengths and patterns are the daemon's to check, as with botocore.
 *
 * To add a command: declare its request members (a shape_member list ending
 * with { NULL }), then add one cli_commands[] entry with its prefix and
 * action. A certfleet extension uses PREFIX_CERTFLEET, e.g.
 *
 *	static const struct shape_member create_binding[] = {
 *		{ "CertificateArn", &s_string, true, "The certificate." },
 *		{ "Host", &s_string, true, "Host that receives it." },
 *		{ NULL },
 *	};
 *	{ PREFIX_CERTFLEET, "CreateBinding", create_binding, NULL,
 *	    "Binds a certificate to a host." },
 *
 * gives `certfleet create-binding --certificate-arn A --host H`, sent as
 * X-Amz-Target: CertFleet.CreateBinding.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/xmalloc.h"

/* Scalars and the shapes built from them. */
static const struct shape s_string = { .type = SHAPE_STRING };
static const struct shape s_integer = { .type = SHAPE_INTEGER };
static const struct shape s_blob = { .type = SHAPE_BLOB };
static const struct shape s_string_list = {
	.type = SHAPE_LIST, .member = &s_string };

static const struct shape_member tag_members[] = {
	{ "Key", &s_string, true, NULL },
	{ "Value", &s_string, false, NULL },
	{ NULL },
};
static const struct shape s_tag = {
	.type = SHAPE_STRUCT, .members = tag_members };
static const struct shape s_tag_list = {
	.type = SHAPE_LIST, .member = &s_tag };

static const struct shape_member filters_members[] = {
	{ "extendedKeyUsage", &s_string_list, false, NULL },
	{ "keyUsage", &s_string_list, false, NULL },
	{ "keyTypes", &s_string_list, false, NULL },
	{ "exportOption", &s_string, false, NULL },
	{ "managedBy", &s_string, false, NULL },
	{ NULL },
};
static const struct shape s_filters = {
	.type = SHAPE_STRUCT, .members = filters_members };

static const struct shape_member expiry_events_members[] = {
	{ "DaysBeforeExpiry", &s_integer, false, NULL },
	{ NULL },
};
static const struct shape s_expiry_events = {
	.type = SHAPE_STRUCT, .members = expiry_events_members };

static const struct shape_member certificate_options_members[] = {
	{ "CertificateTransparencyLoggingPreference", &s_string, false, NULL },
	{ "Export", &s_string, false, NULL },
	{ NULL },
};
static const struct shape s_certificate_options = {
	.type = SHAPE_STRUCT, .members = certificate_options_members };

static const struct shape_member domain_validation_option_members[] = {
	{ "DomainName", &s_string, true, NULL },
	{ "ValidationDomain", &s_string, true, NULL },
	{ NULL },
};
static const struct shape s_domain_validation_option = {
	.type = SHAPE_STRUCT, .members = domain_validation_option_members };
static const struct shape s_domain_validation_options = {
	.type = SHAPE_LIST, .member = &s_domain_validation_option };

#define ARN_DOC "The certificate's ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)."
#define TAGS_DOC "Tags: Key=k,Value=v ... or JSON [{\"Key\":\"k\",\"Value\":\"v\"}]."

static const struct shape_member arn_only[] = {
	{ "CertificateArn", &s_string, true, ARN_DOC },
	{ NULL },
};

static const struct shape_member import_certificate[] = {
	{ "CertificateArn", &s_string, false,
	    "ARN of an imported certificate to replace (reimport)." },
	{ "Certificate", &s_blob, true,
	    "The PEM certificate, e.g. fileb://cert.pem." },
	{ "PrivateKey", &s_blob, true,
	    "The unencrypted PEM private key, e.g. fileb://key.pem." },
	{ "CertificateChain", &s_blob, false,
	    "The PEM intermediate chain, e.g. fileb://chain.pem." },
	{ "Tags", &s_tag_list, false, TAGS_DOC },
	{ NULL },
};

static const struct shape_member list_certificates[] = {
	{ "CertificateStatuses", &s_string_list, false,
	    "Only these statuses: PENDING_VALIDATION ISSUED INACTIVE EXPIRED "
	    "VALIDATION_TIMED_OUT REVOKED FAILED." },
	{ "Includes", &s_filters, false,
	    "Filters: keyTypes=[RSA_2048,EC_prime256v1],keyUsage=[...],"
	    "extendedKeyUsage=[...],exportOption=...,managedBy=..." },
	{ "NextToken", &s_string, false, NULL },
	{ "MaxItems", &s_integer, false, NULL },
	{ "SortBy", &s_string, false, "CREATED_AT." },
	{ "SortOrder", &s_string, false, "ASCENDING or DESCENDING." },
	{ NULL },
};

static const struct shape_member tags_on_certificate[] = {
	{ "CertificateArn", &s_string, true, ARN_DOC },
	{ "Tags", &s_tag_list, true, TAGS_DOC },
	{ NULL },
};

static const struct shape_member put_account_configuration[] = {
	{ "ExpiryEvents", &s_expiry_events, false,
	    "DaysBeforeExpiry=N: days before expiry to start sending events." },
	{ "IdempotencyToken", &s_string, true,
	    "Client token (1-32 characters) that makes retries safe." },
	{ NULL },
};

static const struct shape_member request_certificate[] = {
	{ "DomainName", &s_string, true, "Fully qualified domain name." },
	{ "ValidationMethod", &s_string, false, "EMAIL, DNS or HTTP." },
	{ "SubjectAlternativeNames", &s_string_list, false,
	    "Additional names: a.example.com b.example.com ..." },
	{ "IdempotencyToken", &s_string, false,
	    "Client token (1-32 characters) that makes retries safe." },
	{ "DomainValidationOptions", &s_domain_validation_options, false,
	    "DomainName=www.example.com,ValidationDomain=example.com ..." },
	{ "Options", &s_certificate_options, false,
	    "CertificateTransparencyLoggingPreference=ENABLED|DISABLED,"
	    "Export=ENABLED|DISABLED" },
	{ "CertificateAuthorityArn", &s_string, false,
	    "ARN of a private CA to issue from." },
	{ "Tags", &s_tag_list, false, TAGS_DOC },
	{ "KeyAlgorithm", &s_string, false,
	    "RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, "
	    "EC_secp521r1 ..." },
	{ "ManagedBy", &s_string, false, "CLOUDFRONT." },
	{ NULL },
};

static const struct shape_member resend_validation_email[] = {
	{ "CertificateArn", &s_string, true, ARN_DOC },
	{ "Domain", &s_string, true, "The name the certificate covers." },
	{ "ValidationDomain", &s_string, true,
	    "Base domain whose addresses receive the email." },
	{ NULL },
};

static const struct shape_member export_certificate[] = {
	{ "CertificateArn", &s_string, true, ARN_DOC },
	{ "Passphrase", &s_blob, true,
	    "Passphrase that encrypts the exported key, e.g. fileb://pass.txt." },
	{ NULL },
};

static const struct shape_member update_certificate_options[] = {
	{ "CertificateArn", &s_string, true, ARN_DOC },
	{ "Options", &s_certificate_options, true,
	    "CertificateTransparencyLoggingPreference=ENABLED|DISABLED,"
	    "Export=ENABLED|DISABLED" },
	{ NULL },
};

static const struct shape_member lookup_attribute_members[] = {
	{ "AttributeKey", &s_string, true, NULL },
	{ "AttributeValue", &s_string, true, NULL },
	{ NULL },
};
static const struct shape s_lookup_attribute = {
	.type = SHAPE_STRUCT, .members = lookup_attribute_members };
static const struct shape s_lookup_attributes = {
	.type = SHAPE_LIST, .member = &s_lookup_attribute };

/* CloudTrail's LookupEvents, over certfleet's audit trail. */
static const struct shape_member lookup_events[] = {
	{ "StartTime", &s_integer, false,
	    "Oldest event time, in epoch seconds." },
	{ "EndTime", &s_integer, false,
	    "Newest event time, in epoch seconds." },
	{ "LookupAttributes", &s_lookup_attributes, false,
	    "AttributeKey=EventName|ResourceName|Username|EventId|ReadOnly,"
	    "AttributeValue=..." },
	{ "MaxResults", &s_integer, false, "Events per page, 1-50." },
	{ "NextToken", &s_string, false, "Token from a previous page." },
	{ NULL },
};

/* Bindings (certfleet extension): a certificate deployed on a host. */
static const struct shape_member endpoint_members[] = {
	{ "Address", &s_string, true, NULL },
	{ "Port", &s_integer, true, NULL },
	{ "ServerName", &s_string, false, NULL },
	{ NULL },
};
static const struct shape s_endpoint = {
	.type = SHAPE_STRUCT, .members = endpoint_members };

static const struct shape_member file_target_members[] = {
	{ "Path", &s_string, true, NULL },
	{ "Owner", &s_string, false, NULL },
	{ "Group", &s_string, false, NULL },
	{ "Mode", &s_string, false, NULL },
	{ NULL },
};
static const struct shape s_file_target = {
	.type = SHAPE_STRUCT, .members = file_target_members };

static const struct shape_member files_members[] = {
	{ "Certificate", &s_file_target, false, NULL },
	{ "Chain", &s_file_target, false, NULL },
	{ "FullChain", &s_file_target, false, NULL },
	{ "PrivateKey", &s_file_target, false, NULL },
	{ NULL },
};
static const struct shape s_files = {
	.type = SHAPE_STRUCT, .members = files_members };

static const struct shape_member reload_members[] = {
	{ "SystemdUnit", &s_string, false, NULL },
	{ "Command", &s_string_list, false, NULL },
	{ "TimeoutSeconds", &s_integer, false, NULL },
	{ NULL },
};
static const struct shape s_reload = {
	.type = SHAPE_STRUCT, .members = reload_members };

static const struct shape_member create_binding[] = {
	{ "CertificateArn", &s_string, true, "The certificate to deploy." },
	{ "HostName", &s_string, true,
	    "host_name of the daemon that deploys it." },
	{ "Endpoint", &s_endpoint, true,
	    "Address=...,Port=...,ServerName=... that serves it." },
	{ "Files", &s_files, true,
	    "Certificate|Chain|FullChain|PrivateKey={Path=...,Owner=...,"
	    "Group=...,Mode=0640}." },
	{ "Reload", &s_reload, false,
	    "SystemdUnit=... or Command=[...], TimeoutSeconds=..." },
	{ NULL },
};

static const struct shape_member binding_arn_only[] = {
	{ "BindingArn", &s_string, true, "The binding's ARN." },
	{ NULL },
};

static const struct shape_member list_bindings[] = {
	{ "CertificateArn", &s_string, false, "Only this certificate's." },
	{ "HostName", &s_string, false, "Only this host's." },
	{ "MaxItems", &s_integer, false, "Bindings per page, 1-1000." },
	{ "NextToken", &s_string, false, "Token from a previous page." },
	{ NULL },
};

static const struct shape_member no_members[] = {
	{ NULL },
};

static const struct paginator list_certificates_pages = {
	"NextToken", "NextToken", "MaxItems", "CertificateSummaryList",
};

static const struct paginator list_bindings_pages = {
	"NextToken", "NextToken", "MaxItems", "Bindings",
};

static const struct paginator lookup_events_pages = {
	"NextToken", "NextToken", "MaxResults", "Events",
};

const struct cli_command cli_commands[] = {
	{ PREFIX_ACM, "AddTagsToCertificate", tags_on_certificate, NULL,
	    "Adds tags to a certificate." },
	{ PREFIX_CERTFLEET, "CreateBinding", create_binding, NULL,
	    "Binds a certificate to files, a reload action and an endpoint "
	    "on a host (certfleet extension)." },
	{ PREFIX_CERTFLEET, "DeleteBinding", binding_arn_only, NULL,
	    "Deletes a binding; its files stay (certfleet extension)." },
	{ PREFIX_ACM, "DeleteCertificate", arn_only, NULL,
	    "Deletes a certificate and its private key." },
	{ PREFIX_CERTFLEET, "DescribeBinding", binding_arn_only, NULL,
	    "Returns a binding and its deployment state (certfleet "
	    "extension)." },
	{ PREFIX_ACM, "DescribeCertificate", arn_only, NULL,
	    "Returns a certificate's metadata." },
	{ PREFIX_ACM, "ExportCertificate", export_certificate, NULL,
	    "Exports a certificate, its chain and its encrypted private key." },
	{ PREFIX_ACM, "GetAccountConfiguration", no_members, NULL,
	    "Returns the account configuration." },
	{ PREFIX_ACM, "GetCertificate", arn_only, NULL,
	    "Returns a certificate and its chain in PEM." },
	{ PREFIX_CERTFLEET, "GetCertificateAuthorityCertificate", no_members,
	    NULL, "Returns certfleet's intermediate CA certificate and its "
	    "root, to trust (certfleet extension)." },
	{ PREFIX_ACM, "ImportCertificate", import_certificate, NULL,
	    "Imports (or reimports) a certificate and its private key." },
	{ PREFIX_CERTFLEET, "ListBindings", list_bindings,
	    &list_bindings_pages,
	    "Lists bindings, by certificate or host (certfleet extension)." },
	{ PREFIX_ACM, "ListCertificates", list_certificates,
	    &list_certificates_pages,
	    "Lists certificate ARNs and domain names." },
	{ PREFIX_CERTFLEET, "LookupEvents", lookup_events,
	    &lookup_events_pages,
	    "Looks up audit events, newest first (certfleet extension)." },
	{ PREFIX_ACM, "ListTagsForCertificate", arn_only, NULL,
	    "Lists a certificate's tags." },
	{ PREFIX_ACM, "PutAccountConfiguration", put_account_configuration,
	    NULL, "Sets the account configuration." },
	{ PREFIX_ACM, "RemoveTagsFromCertificate", tags_on_certificate, NULL,
	    "Removes tags from a certificate." },
	{ PREFIX_ACM, "RenewCertificate", arn_only, NULL,
	    "Renews an eligible certificate now." },
	{ PREFIX_ACM, "RequestCertificate", request_certificate, NULL,
	    "Requests a certificate." },
	{ PREFIX_ACM, "ResendValidationEmail", resend_validation_email, NULL,
	    "Resends the domain validation email." },
	{ PREFIX_ACM, "UpdateCertificateOptions", update_certificate_options,
	    NULL, "Updates a certificate's options." },
	{ NULL },
};

const char *const cli_timestamp_members[] = {
	"CreatedAt", "DeployedAt", "EventTime", "ImportedAt", "IssuedAt", "NotAfter", "NotBefore",
	"RevokedAt", "UpdatedAt", NULL,
};

char *
cli_command_name(const struct cli_command *cmd)
{
	return args_kebab(cmd->action);
}

const struct cli_command *
cli_command_find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->action; c++) {
		_cleanup_free_ char *n = cli_command_name(c);

		if (strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}
