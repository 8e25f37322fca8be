{
  "objectClassName": "domain",
  "ldhName": "bigcorp.com",
  "entities": [
    {"objectClassName": "entity", "roles": ["registrant"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "owner@bigcorp.com"],
       ["email", {}, "text", "legal@bigcorp.com"]]]},
    {"objectClassName": "entity", "roles": ["technical"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "noc@bigcorp.com"]]]},
    {"objectClassName": "entity", "roles": ["administrative"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "it@bigcorp.com"],
       ["email", {}, "text", "cio@bigcorp.com"]]]}
  ]
}
