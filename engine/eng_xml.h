/* oVirt v4 XML for the REST API, from and to the same jansson trees the
 * REST layer builds for JSON, so that handlers never see the difference.
 *
 * Rendering (tree -> XML):
 *   {"vm": [{...}, {...}]} with no name   -> <vms><vm>..</vm><vm>..</vm></vms>
 *   a resource object, name "vm"          -> <vm ...>...</vm>
 *   "id", "href", "rel" with scalar values become attributes;
 *   other scalars become <key>text</key> (null members are left out);
 *   nested objects become elements; an array repeats its element:
 *     "link": [{"rel": "r", "href": "h"}]   -> <link rel="r" href="h"/>
 *     "actions": {"link": [...]}            -> <actions><link .../></actions>
 *
 * Parsing (XML request body -> tree): the root element's attributes and
 * children become the members of one object (<action><async>false</async>
 * </action> -> {"async": "false"}, root name "action"); an element holding
 * only text becomes a string, one with attributes or children an object;
 * repeated children, and the children of a plural wrapper (<hosts><host>),
 * become arrays. Values stay strings ("false", "1024"): JSON input takes
 * numbers and booleans as strings too.
 *
 * The parser is a small one of its own for the subset request bodies use:
 * no DTD (a <!DOCTYPE> is refused, so neither external nor recursive
 * entities exist), no processing instructions but the XML declaration, the
 * five predefined entities and character references only, a size limit
 * checked before reading and a depth limit. No dependency is added. */
#ifndef ENG_XML_H
#define ENG_XML_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define ENG_XML_MAX_DEPTH 32
#define ENG_XML_MAX_NODES 100000    /* elements + attributes */

/* Render `tree` as an XML document ("<?xml ...?>" and one root element).
 * `name` NULL: `tree` is a collection, an object with one member holding
 * an array (or an object), rendered as its plural ("vm" -> <vms>). Else
 * `tree` is rendered as element `name`. A malloc'd string the caller frees,
 * or NULL with CMN_ERR_INVALID (a key that is not an XML name, a tree of
 * the wrong shape) or CMN_ERR_NOMEM recorded. */
char *eng_xml_render(const json_t *tree, const char *name);

/* Parse an XML request body of `len` bytes (need not be NUL-terminated).
 * Returns a new object reference (caller decrefs) and copies the root
 * element's name into `root` (`root_size` bytes; may be NULL). NULL with
 * CMN_ERR_TOO_BIG if len > max_bytes, or CMN_ERR_INVALID naming the line,
 * the column and what is wrong. */
json_t *eng_xml_parse(const char *buf, size_t len, size_t max_bytes,
                      char *root, size_t root_size);

/* True if `s` is an XML element name this module writes and reads:
 * [A-Za-z_][A-Za-z0-9_.-]*, at most 128 bytes. */
bool eng_xml_name_ok(const char *s);

#endif /* ENG_XML_H */
