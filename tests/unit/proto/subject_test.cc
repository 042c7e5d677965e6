#include "proto/subject.h"

#include <gtest/gtest.h>

namespace ringtail::proto {
namespace {

TEST(Subject, ValidSubjects) {
    for (const char* s : {"foo", "foo.bar", "*", ">", "foo.*", "foo.>", "*.*.>", "foo*.bar", "a.b>",
                          "\xc3\xa9t\xc3\xa9", "$JS.API.INFO", "_INBOX.abc.*"}) {
        EXPECT_TRUE(is_valid_subject(s)) << s;
    }
}

TEST(Subject, InvalidSubjects) {
    for (const char* s : {"", ".", "foo.", ".foo", "foo..bar", ">.foo", "foo.>.bar", "foo bar",
                          "foo\tbar", "foo\r", "foo\n.bar", "a.\f"}) {
        EXPECT_FALSE(is_valid_subject(s)) << s;
    }
}

TEST(Subject, LiteralSubjectsHaveNoWildcardTokens) {
    EXPECT_TRUE(is_valid_literal_subject("foo.bar"));
    EXPECT_TRUE(is_valid_literal_subject("foo*.b>r"));
    EXPECT_FALSE(is_valid_literal_subject("foo.*"));
    EXPECT_FALSE(is_valid_literal_subject("foo.>"));
    EXPECT_FALSE(is_valid_literal_subject("foo..bar"));
}

TEST(Subject, ReferenceMatcher) {
    EXPECT_TRUE(subject_matches("foo.*", "foo.bar"));
    EXPECT_FALSE(subject_matches("foo.*", "foo.bar.baz"));
    EXPECT_FALSE(subject_matches("foo.*", "foo"));
    EXPECT_TRUE(subject_matches("foo.>", "foo.bar.baz"));
    EXPECT_FALSE(subject_matches("foo.>", "foo"));
    EXPECT_TRUE(subject_matches(">", "foo"));
    EXPECT_TRUE(subject_matches("*.b.*", "a.b.c"));
    EXPECT_FALSE(subject_matches("foo", "foo.bar"));
    EXPECT_FALSE(subject_matches("foo.bar", "foo"));
    EXPECT_TRUE(subject_matches("foo.bar", "foo.bar"));
}

}  // namespace
}  // namespace ringtail::proto
