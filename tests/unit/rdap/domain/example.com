{
  "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_0"],
  "objectClassName": "domain",
  "handle": "EXAMPLE-COM",
  "ldhName": "EXAMPLE.COM",
  "status": ["active"],
  "entities": [
    {
      "objectClassName": "entity",
      "handle": "REG-1",
      "roles": ["registrar"],
      "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
        ["fn", {}, "text", "Example Registrar"],
        ["email", {}, "text", "support@registrar.example.net"]]],
      "entities": [
        {
          "objectClassName": "entity",
          "roles": ["abuse"],
          "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
            ["email", {}, "text", "abuse@registrar.example.net"]]]
        }
      ]
    },
    {
      "objectClassName": "entity",
      "handle": "C-1",
      "roles": ["registrant"],
      "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
        ["fn", {}, "text", "Example Owner"],
        ["email", {"type": "work"}, "text", "Owner@Example.com"]]]
    },
    {
      "objectClassName": "entity",
      "handle": "C-2",
      "roles": ["technical"],
      "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
        ["fn", {}, "text", "Tech Team"],
        ["email", {}, "text", "tech@example.net"]]]
    },
    {
      "objectClassName": "entity",
      "handle": "C-3",
      "roles": ["administrative"],
      "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
        ["fn", {}, "text", "Hostmaster"],
        ["email", {}, "text", "HOSTMASTER@example.com"]]]
    }
  ]
}
