{
  "objectClassName": "domain",
  "ldhName": "rdaponly.com",
  "entities": [
    {"objectClassName": "entity", "roles": ["registrant", "administrative"],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
       ["email", {}, "text", "owner@rdaponly-mail.example.net"]]]}
  ]
}
