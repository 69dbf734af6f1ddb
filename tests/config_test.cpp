#include "sim/config.h"

#include <gtest/gtest.h>

#include "sim/error.h"

namespace convoy {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ParsesTypedValuesWithDefaults) {
  const Config c = Config::parse({"a=3", "b=0.5", "c=true", "d=fast"});
  ConfigReader r(c, "Thing");
  EXPECT_EQ(r.integer("a", 1, 0, 10, ""), 3);
  EXPECT_DOUBLE_EQ(r.real("b", 1.0, 0.0, 1.0, ""), 0.5);
  EXPECT_TRUE(r.boolean("c", false, ""));
  EXPECT_EQ(r.choice("d", "slow", {"slow", "fast"}, ""), "fast");
  EXPECT_EQ(r.integer("e", 7, 0, 10, ""), 7);
  EXPECT_NO_THROW(r.finish());
  EXPECT_EQ(r.keys().size(), 5u);
  EXPECT_EQ(r.keys()[0].allowed, "[0, 10]");
}

TEST(Config, ErrorsNameKeyValueAndWhatIsAllowed) {
  EXPECT_NE(error_of([] { Config::parse({"novalue"}); }).find("'novalue'"), std::string::npos);
  const Config c = Config::parse({"a=11", "b=x", "c=maybe", "d=warp", "f=nan"});
  ConfigReader r(c, "Thing");
  const std::string ea = error_of([&] { r.integer("a", 1, 0, 10, ""); });
  EXPECT_NE(ea.find("Thing"), std::string::npos) << ea;
  EXPECT_NE(ea.find("a=11"), std::string::npos) << ea;
  EXPECT_NE(ea.find("[0, 10]"), std::string::npos) << ea;
  EXPECT_NE(error_of([&] { r.real("b", 1, 0, 2, ""); }).find("b=x"), std::string::npos);
  EXPECT_NE(error_of([&] { r.boolean("c", true, ""); }).find("c=maybe"), std::string::npos);
  EXPECT_NE(error_of([&] {
              r.choice("d", "slow", {"slow", "fast"}, "");
            }).find("slow|fast"),
            std::string::npos);
  EXPECT_NE(error_of([&] { r.real("f", 1, 0, 2, ""); }).find("f=nan"), std::string::npos);
}

TEST(Config, UnknownKeyListsKnownKeys) {
  const Config c = Config::parse({"gravity=3", "typo=1"});
  ConfigReader r(c, "Env");
  r.real("gravity", 9.8, 0, 100, "");
  const std::string e = error_of([&] { r.finish(); });
  EXPECT_NE(e.find("unknown config key 'typo'"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed keys: gravity"), std::string::npos) << e;
}

}  // namespace
}  // namespace convoy
