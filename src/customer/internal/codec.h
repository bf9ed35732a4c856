#pragma once
// Text forms the customer store keeps in its tables: attribute maps as JSON
// objects (current values and history assertions), and the normalized search
// tokens of a customer's name, email and phone.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "customer/customer.h"

namespace rapport::customer::internal {

using AttributeMap = std::map<std::string, AttributeValue>;
using Catalog = std::map<std::string, AttributeDefinition, std::less<>>;

void AppendJsonString(std::string* out, std::string_view s);
// {"city":"Berlin","employees":12,"vip":true,"street":null}; monostate is
// null, or left out when !keep_removals.
void EncodeAttributes(const AttributeMap& attributes, std::string* out, bool keep_removals = true);
// The inverse; numbers are read as integers or doubles by the catalog type of
// the attribute. nulls become monostate entries.
Result<AttributeMap> DecodeAttributes(std::string_view json, const Catalog& catalog);
// True when text is one JSON object (RFC 8259), e.g. an interaction's properties.
bool IsJsonObject(std::string_view text);

// The name shown in lists: name, else firstName lastName.
std::string DisplayName(const AttributeMap& attributes);

// Lower-cased words of a name ("Anna-Lena O'Brien" -> anna, lena, o, brien),
// splitting on ASCII punctuation and spaces; bytes >= 0x80 stay in words.
void AppendWords(std::string_view text, std::vector<std::string>* out);
// Sorted, unique search tokens for a customer's summary fields.
std::vector<std::string> SearchTokens(std::string_view display_name, std::string_view email,
                                      std::string_view phone);
// The tokens of a customer that customer_search_tokens holds: all but those
// equal to the value of one of its email or phone identifiers, which search
// finds through the identifier index instead (a bulk import then writes each
// email and phone into one index, not two). Both lists sorted or not; the
// result keeps the order of tokens.
std::vector<std::string> StoredSearchTokens(std::vector<std::string> tokens, const std::vector<Identifier>& ids);
// True when a token could be an email or phone identifier's value (holds '@',
// or only '+' and digits): the only tokens StoredSearchTokens leaves out.
bool MayBeIdentifierValue(std::string_view token);

}  // namespace rapport::customer::internal
