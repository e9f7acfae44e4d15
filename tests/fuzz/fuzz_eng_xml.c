/* Fuzz target: an XML request body through eng_xml_parse (the REST API's
 * <action> and resource bodies). Every tree it accepts must render back to
 * XML that parses again to the same tree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmn_err.h"
#include "eng_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char root[256];
    cmn_err_reset();
    json_t *t = eng_xml_parse((const char *)data, size, 64 * 1024, root,
                              sizeof(root));
    if (t == NULL) {
        if (cmn_err_code() == CMN_OK)
            abort();            /* a refusal must say why */
        return 0;
    }
    if (!json_is_object(t) || !eng_xml_name_ok(root))
        abort();
    cmn_err_reset();
    char *xml = eng_xml_render(t, root);
    if (xml != NULL) {
        char root2[256];
        json_t *back = eng_xml_parse(xml, strlen(xml), 16 * 1024 * 1024,
                                     root2, sizeof(root2));
        /* Rendering may legitimately drop blank text and turn "" members
         * into <x/>, which parse back the same; a tree that does not come
         * back is a bug. */
        if (back == NULL || strcmp(root, root2) != 0 || !json_equal(t, back))
            abort();
        json_decref(back);
        free(xml);
    }
    json_decref(t);
    return 0;
}
