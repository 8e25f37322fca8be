/*
 * json_wipe.h: makes jansson wipe every block it frees. Request bodies carry
 * private keys (base64 in ImportCertificate's JSON); with this installed no
 * copy jansson made of them outlives its object in freed memory.
 */
#ifndef CERTFLEET_COMMON_JSON_WIPE_H
#define CERTFLEET_COMMON_JSON_WIPE_H

/* Call once, before any JSON is parsed or built. */
void json_wipe_install(void);

/* Frees text from json_dumps() with jansson's own free function, which
 * is not free(3) once json_wipe_install() ran. Accepts NULL. */
void json_text_free(char *text);

#endif
