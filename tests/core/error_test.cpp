// check() and the exception hierarchy every lamina error message goes through.
#include <gtest/gtest.h>

#include <string>

#include <lamina/lamina.hpp>

namespace lamina {
namespace {

template <class E>
std::string message_of(bool condition) {
  try {
    check<E>(condition, "op: shape ", Shape{2, 3}, " and value ", 1.5, " and count ", 7,
             std::string(" (a string)"));
  } catch (const E& e) {
    return e.what();
  }
  return "no exception";
}

TEST(Check, PassesSilentlyWhenTheConditionHolds) {
  EXPECT_NO_THROW(check<ValueError>(true, "never built"));
  EXPECT_EQ(message_of<ShapeError>(true), "no exception");
}

TEST(Check, ThrowsTheRequestedTypeWithTheConcatenatedMessage) {
  const std::string expected = "op: shape [2, 3] and value 1.5 and count 7 (a string)";
  EXPECT_EQ(message_of<ShapeError>(false), expected);
  EXPECT_EQ(message_of<ValueError>(false), expected);
  EXPECT_EQ(message_of<IoError>(false), expected);
  EXPECT_EQ(message_of<Error>(false), expected);
}

TEST(Check, LiteralsOfDifferentLengthsFormatAlike) {
  EXPECT_THROW(check<ValueError>(false, "a"), ValueError);
  try {
    check<ValueError>(false, "abc", 'x', "de");
    FAIL() << "check did not throw";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "abcxde");
  }
}

TEST(Errors, EveryKindIsALaminaErrorAndARuntimeError) {
  EXPECT_THROW(throw ShapeError("s"), Error);
  EXPECT_THROW(throw ValueError("v"), Error);
  EXPECT_THROW(throw IoError("i"), Error);
  EXPECT_THROW(throw Error("e"), std::runtime_error);
}

}  // namespace
}  // namespace lamina
