// ServiceImports on its own: what it forwards for a request and for each kind of response,
// and when it forgets a reply subject it made.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "core/shard/service_imports.h"
#include "proto/headers.h"

namespace ringtail::core {
namespace {

struct Sent {
    uint32_t account;
    std::string subject, reply, headers, payload;
};

config::Options two_accounts(config::ResponseType type) {
    config::Options options;
    options.accounts = {"SVC", "APP"};
    options.service_exports.push_back({"SVC", "time.>", {}, type, 1'000'000'000});
    options.service_imports.push_back({"APP", "SVC", "time.>", "clock.>"});
    return options;
}

class ServiceImportsTest : public ::testing::Test {
protected:
    void start(config::ResponseType type) {
        options_ = two_accounts(type);
        services_ = std::make_unique<ServiceImports>(options_);
        services_->start([this](Subscription& sub) { subs_.push_back(&sub); });
        ASSERT_EQ(subs_.size(), 3u);  // the import, and the exporter's and importer's response wildcards
    }
    // Delivers `msg` to the subscription whose subject is `subject`, then flushes.
    void deliver(const std::string& sub_subject, MsgView msg, Routed routed = Routed::kDelivered) {
        for (Subscription* sub : subs_) {
            if (sub->subject == sub_subject) services_->deliver(*sub, msg);
        }
        services_->flush([&](const MsgView& out) {
            sent_.push_back({out.account, std::string(out.subject), std::string(out.reply), std::string(out.headers),
                             std::string(out.payload)});
            return routed;
        });
    }
    // The exporter's response wildcard.
    std::string response_wildcard() const {
        for (const Subscription* sub : subs_) {
            if (sub->account == config::account_id(options_, "SVC")) return sub->subject;
        }
        return {};
    }
    MsgView request(std::string_view reply) {
        MsgView msg;
        msg.account = config::account_id(options_, "APP");
        msg.subject = "clock.now";
        msg.reply = reply;
        msg.payload = "?";
        return msg;
    }
    MsgView response(std::string_view subject, std::string_view payload) {
        MsgView msg;
        msg.account = config::account_id(options_, "SVC");
        msg.subject = subject;
        msg.payload = payload;
        return msg;
    }

    config::Options options_;
    std::unique_ptr<ServiceImports> services_;
    std::vector<Subscription*> subs_;
    std::vector<Sent> sent_;
};

TEST_F(ServiceImportsTest, ARequestGoesToTheExporterWithAReplyOfTheServersAndItsOneResponseBack) {
    start(config::ResponseType::kSingleton);
    EXPECT_EQ(subs_[0]->subject, "clock.>");
    EXPECT_EQ(subs_[0]->account, config::account_id(options_, "APP"));
    EXPECT_TRUE(response_wildcard().starts_with("_R_.")) << response_wildcard();
    deliver("clock.>", request("_INBOX.1"));
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].account, config::account_id(options_, "SVC"));
    EXPECT_EQ(sent_[0].subject, "time.now");
    EXPECT_EQ(sent_[0].payload, "?");
    EXPECT_EQ(proto::header_value(sent_[0].headers, "Nats-Request-Info"), R"({"acc":"APP"})");
    std::string reply = sent_[0].reply;
    ASSERT_TRUE(reply.starts_with(response_wildcard().substr(0, response_wildcard().size() - 1))) << reply;
    deliver(response_wildcard(), response(reply, "12:00"));
    deliver(response_wildcard(), response(reply, "again"));  // a singleton's second: dropped
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].account, config::account_id(options_, "APP"));
    EXPECT_EQ(sent_[1].subject, "_INBOX.1");
    EXPECT_EQ(sent_[1].payload, "12:00");
}

TEST_F(ServiceImportsTest, AStreamedResponseGoesOnUntilAnEmptyMessageOrTheThreshold) {
    start(config::ResponseType::kStream);
    deliver("clock.>", request("_INBOX.1"));
    deliver("clock.>", request("_INBOX.2"));
    std::string first = sent_[0].reply, second = sent_[1].reply;
    EXPECT_NE(first, second);
    for (const char* part : {"a", "b", ""}) deliver(response_wildcard(), response(first, part));
    deliver(response_wildcard(), response(first, "after the end"));
    ASSERT_EQ(sent_.size(), 5u);
    EXPECT_EQ(sent_[4].payload, "");
    // The second is forgotten once its threshold (1 s) passed without a response.
    services_->tick(base::wall_clock_ns() + 2'000'000'000);
    deliver(response_wildcard(), response(second, "late"));
    EXPECT_EQ(sent_.size(), 5u);
}

TEST_F(ServiceImportsTest, ARequestNobodyTookForgetsItsReplySubject) {
    start(config::ResponseType::kStream);
    deliver("clock.>", request("_INBOX.1"), Routed::kNoInterest);
    deliver(response_wildcard(), response(sent_[0].reply, "x"));
    EXPECT_EQ(sent_.size(), 1u);
    // A full ring keeps the message to send again on the next flush.
    deliver("clock.>", request("_INBOX.2"), Routed::kFull);
    EXPECT_FALSE(services_->idle());
    deliver("clock.>", request("_INBOX.3"));
    EXPECT_TRUE(services_->idle());
    ASSERT_EQ(sent_.size(), 4u);
    EXPECT_EQ(sent_[2].reply, sent_[1].reply);  // the same message, sent again
}

TEST_F(ServiceImportsTest, WhatFullRingsHoldBackIsBounded) {
    start(config::ResponseType::kSingleton);
    std::string payload(1u << 20, 'x');
    MsgView big = request("_INBOX.1");
    big.payload = payload;
    size_t offered = ServiceImports::kQueuedBytesMax / payload.size() + 10;
    for (size_t i = 0; i < offered; ++i) deliver("clock.>", big, Routed::kFull);
    sent_.clear();
    deliver("clock.>", request("_INBOX.2"));  // arrives while the bound is passed: dropped
    // What was held goes out: up to the bound (each message is a little over 1 MiB), no more.
    EXPECT_EQ(sent_.size(), ServiceImports::kQueuedBytesMax / payload.size());
    for (const Sent& sent : sent_) EXPECT_EQ(sent.payload.size(), payload.size());
    EXPECT_TRUE(services_->idle());
}

}  // namespace
}  // namespace ringtail::core
