#include <gtest/gtest.h>

#include "lumen/core/checks.hpp"

using namespace lumen;

TEST(Checks, CollectorSeesEveryReportAndRestoresThePreviousSink) {
    std::vector<std::string> outer;
    ScopedCheckSink outer_scope([&](const CheckResult& r) { outer.push_back(r.id); });
    {
        CheckCollector checks;
        report_check("a.passes", true, "fine");
        warn("b.fails", "look here");
        ASSERT_EQ(checks.results().size(), 2u);
        EXPECT_EQ(checks.warnings().size(), 1u);
        EXPECT_TRUE(checks.has_warning("b.fails"));
        EXPECT_FALSE(checks.has_warning("a.passes"));
    }
    warn("c.after", "goes to the outer sink");
    ASSERT_EQ(outer.size(), 1u);
    EXPECT_EQ(outer[0], "c.after");
}
