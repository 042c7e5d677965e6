// A user's permissions as nats-server applies them (server/client.go canSubscribe,
// pubAllowedFullCheck, checkDenySub): allow and deny lists with wildcards, queue-group
// entries, and the replies allow_responses lets through.
#include "core/auth/permissions.h"

#include <sodium.h>

#include <gtest/gtest.h>
#include <absl/strings/escaping.h>

#include "core/auth/nkey.h"

#include <memory>

namespace ringtail::core::auth {
namespace {

using config::SubjectPermission;
using Clock = ConnPermissions::Clock;

config::Permissions make(std::optional<SubjectPermission> publish, std::optional<SubjectPermission> subscribe) {
    config::Permissions permissions;
    permissions.publish = std::move(publish);
    permissions.subscribe = std::move(subscribe);
    return permissions;
}

TEST(Permissions, PublishAllowsWhatTheAllowListMatchesUnlessDenied) {
    Permissions p(make(SubjectPermission{std::vector<std::string>{"orders.*", "billing.>"},
                                         std::vector<std::string>{"orders.secret"}},
                       std::nullopt));
    EXPECT_TRUE(p.may_publish("orders.new"));
    EXPECT_TRUE(p.may_publish("billing.a.b"));
    EXPECT_FALSE(p.may_publish("orders.secret"));
    EXPECT_FALSE(p.may_publish("orders.new.deep"));
    EXPECT_FALSE(p.may_publish("other"));
    Permissions deny_only(make(SubjectPermission{std::nullopt, std::vector<std::string>{"admin.>"}}, std::nullopt));
    EXPECT_TRUE(deny_only.may_publish("anything"));
    EXPECT_FALSE(deny_only.may_publish("admin.x"));
    Permissions none(make(SubjectPermission{std::vector<std::string>{}, std::nullopt}, std::nullopt));
    EXPECT_FALSE(none.may_publish("anything"));  // an empty allow list allows nothing
}

TEST(Permissions, SubscribeMatchesTheClientsWildcardsAsTokens) {
    Permissions p(make(std::nullopt, SubjectPermission{std::vector<std::string>{"foo.*", "bar.baz"}, std::nullopt}));
    EXPECT_TRUE(p.may_subscribe("foo.x", ""));
    EXPECT_TRUE(p.may_subscribe("foo.*", ""));
    EXPECT_TRUE(p.may_subscribe("foo.>", ""));  // '>' is one token for "foo.*", as in nats-server
    EXPECT_FALSE(p.may_subscribe("bar.*", ""));  // wider than the literal entry
    EXPECT_FALSE(p.may_subscribe(">", ""));
}

TEST(Permissions, QueueEntriesDecideForTheirGroups) {
    Permissions p(make(std::nullopt, SubjectPermission{std::vector<std::string>{"jobs.* workers", "jobs.* w.*", "any.>"},
                                                       std::vector<std::string>{"any.secret", "any.q blocked"}}));
    EXPECT_TRUE(p.may_subscribe("jobs.run", "workers"));
    EXPECT_TRUE(p.may_subscribe("jobs.run", "w.east"));
    EXPECT_FALSE(p.may_subscribe("jobs.run", "others"));
    EXPECT_FALSE(p.may_subscribe("jobs.run", ""));  // only groups are listed for jobs.*
    EXPECT_TRUE(p.may_subscribe("any.thing", "whatever"));
    EXPECT_FALSE(p.may_subscribe("any.secret", ""));
    EXPECT_FALSE(p.may_subscribe("any.q", "blocked"));
    EXPECT_TRUE(p.may_subscribe("any.q", "fine"));
    EXPECT_TRUE(p.may_subscribe("any.q", ""));
}

TEST(Permissions, AQueueEntryIsTwoWordsHoweverSpaced) {
    Permissions p(make(std::nullopt, SubjectPermission{std::vector<std::string>{"a.*  first", "b.*\tsecond", " c third"},
                                                       std::nullopt}));
    EXPECT_TRUE(p.may_subscribe("a.x", "first"));
    EXPECT_TRUE(p.may_subscribe("b.x", "second"));
    EXPECT_TRUE(p.may_subscribe("c", "third"));
    EXPECT_FALSE(p.may_subscribe("a.x", " first"));
    EXPECT_FALSE(p.may_subscribe("c", ""));
}

TEST(Permissions, AWildcardSubscriptionIsKeptFromDeniedSubjects) {
    ConnPermissions c(std::make_shared<Permissions>(
        make(std::nullopt, SubjectPermission{std::nullopt, std::vector<std::string>{"a.secret"}})));
    EXPECT_TRUE(c.may_subscribe("a.*", ""));
    EXPECT_TRUE(c.delivery_denied("a.*", "a.secret"));
    EXPECT_FALSE(c.delivery_denied("a.*", "a.open"));
    EXPECT_FALSE(c.delivery_denied("a.open", "a.open"));
}

TEST(Permissions, AllowResponsesLetsEachReplyThroughUpToItsCountWithinItsTime) {
    config::Permissions config = make(SubjectPermission{std::vector<std::string>{}, std::nullopt}, std::nullopt);
    config.allow_responses = config::ResponsePermission{2, std::chrono::milliseconds(1000)};
    ConnPermissions c(std::make_shared<Permissions>(config));
    Clock::time_point now = Clock::now();
    EXPECT_FALSE(c.may_publish_at("_INBOX.1", now));
    c.allow_reply("_INBOX.1", now);
    EXPECT_TRUE(c.may_publish_at("_INBOX.1", now));
    EXPECT_TRUE(c.may_publish_at("_INBOX.1", now));
    EXPECT_FALSE(c.may_publish_at("_INBOX.1", now));  // a third reply
    c.allow_reply("_INBOX.2", now);
    EXPECT_FALSE(c.may_publish_at("_INBOX.2", now + std::chrono::seconds(2)));  // expired
    EXPECT_FALSE(c.may_publish_at("elsewhere", now));
}

TEST(Nkey, AUserKeyDecodesAndItsSignatureOfTheNonceVerifies) {
    ASSERT_GE(sodium_init(), 0);
    std::array<uint8_t, 32> seed{};
    seed.fill(3);
    UserKeys keys = user_keys_from_seed(seed);
    EXPECT_EQ(keys.nkey.size(), 56u);
    EXPECT_EQ(keys.nkey[0], 'U');
    EXPECT_EQ(keys.seed.substr(0, 2), "SU");
    auto key = decode_user_nkey(keys.nkey);
    ASSERT_TRUE(key);
    // Sign a nonce with the secret key the seed makes, as a client does.
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES], secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, seed.data());
    std::string nonce = make_nonce();
    EXPECT_EQ(nonce.size(), 15u);
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size(),
                         secret_key);
    std::string encoded;
    absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(signature), sizeof signature), &encoded);
    EXPECT_TRUE(signature_valid(*key, nonce, encoded));
    EXPECT_FALSE(signature_valid(*key, nonce + "x", encoded));
    EXPECT_FALSE(signature_valid(*key, nonce, "not base64!"));
    // A changed character breaks the checksum; a seed or another kind of key is not a user key.
    std::string tampered = keys.nkey;
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(decode_user_nkey(tampered));
    EXPECT_FALSE(decode_user_nkey(keys.seed));
    EXPECT_FALSE(decode_user_nkey("U" + std::string(55, '1')));
}

}  // namespace
}  // namespace ringtail::core::auth
