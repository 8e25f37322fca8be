{
  "rdapConformance": ["rdap_level_0", "redacted"],
  "objectClassName": "domain",
  "ldhName": "redacted.com",
  "entities": [
    {"objectClassName": "entity", "roles": ["registrant"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["fn", {}, "text", ""],
       ["email", {}, "text", "Please query the RDDS service of the Registrar of Record identified in this output for information on how to contact the Registrant, Admin, or Tech contact of the queried domain name."]]]},
    {"objectClassName": "entity", "roles": ["technical"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "REDACTED FOR PRIVACY"]]]},
    {"objectClassName": "entity", "roles": ["administrative"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "https://registrar.example.net/contact-form"],
       ["email", {}, "text", "redacted@redacted.invalid"]]]},
    {"objectClassName": "entity", "roles": ["technical"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "forwarder-8f3a@privacy-proxy.example.net"]]]}
  ],
  "redacted": [
    {"name": {"type": "Registrant Email"}, "method": "removal",
     "prePath": "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='email')]"},
    {"name": {"type": "Tech Email"}, "method": "replacementValue",
     "postPath": "$.entities[?(@.roles[0]=='technical')].vcardArray[1][?(@[0]=='email')][3]"},
    {"name": {"type": "Administrative Contact Email"}, "method": "emptyValue"}
  ]
}
