// Which searches read personal data: the server refuses those to roles
// without pii:read, so the answer cannot tell whether someone is a customer.

#include <gtest/gtest.h>

#include "customer/customer.h"

namespace rapport::customer {
namespace {

TEST(SearchReadsPiiTest, NamesEmailsAndPhonesDoOtherIdentifiersDoNot) {
  for (const char* q : {"lovelace", "Ada Lovelace", "ada@example.com", " ADA@example.com ", "+49 30 1234567",
                        "030/1234567", "email:ada@example.com", "Phone:+49301234567"}) {
    EXPECT_TRUE(SearchReadsPii(q)) << q;
  }
  // "ada:" is no identifier: Search answers 400 before reading anything.
  for (const char* q : {"", "   ", "billing:88231", "crm:ada@example.com", "ada:"}) {
    EXPECT_FALSE(SearchReadsPii(q)) << q;
  }
}

}  // namespace
}  // namespace rapport::customer
