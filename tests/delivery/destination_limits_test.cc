// The delivery limits per destination: pure bookkeeping, no I/O.

#include "server/delivery/destination_limits.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ats::server {
namespace {

DestinationLimitOptions Options(int pool, int per_destination,
                                int initial_window = 1) {
  return DestinationLimitOptions{pool, per_destination, initial_window};
}

TEST(DestinationLimitsTest, AnIdleDestinationMayAlwaysStartOne) {
  DestinationLimits limits(Options(/*pool=*/4, /*per_destination=*/8, 8));
  // Two destinations fill the pool with their second and third slots.
  for (const char* busy : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(limits.MayStart(busy)) << busy << " " << i;
      limits.Started(busy);
    }
  }
  EXPECT_EQ(limits.pooled(), 4);
  EXPECT_FALSE(limits.MayStart("a"));
  EXPECT_FALSE(limits.MayStart("b"));
  // Whatever the others hold, a destination with nothing under way starts.
  for (const char* idle : {"c", "d", "e"}) {
    EXPECT_TRUE(limits.MayStart(idle));
    limits.Started(idle);
    EXPECT_FALSE(limits.MayStart(idle));
  }
  EXPECT_EQ(limits.total(), 9);
  EXPECT_EQ(limits.Saturated(),
            (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(limits.InFlightByDestination(),
            (std::map<std::string, int>{
                {"a", 3}, {"b", 3}, {"c", 1}, {"d", 1}, {"e", 1}}));
}

TEST(DestinationLimitsTest, TheWindowGrowsWithAnswersAndHalvesOnSilence) {
  DestinationLimits limits(Options(/*pool=*/100, /*per_destination=*/6));
  EXPECT_EQ(limits.Window("p"), 1);
  limits.Started("p");
  EXPECT_FALSE(limits.MayStart("p"));
  limits.Finished("p", /*answered=*/true);
  EXPECT_EQ(limits.Window("p"), 2);
  for (int i = 0; i < 10; ++i) {
    limits.Started("p");
    limits.Finished("p", true);
  }
  EXPECT_EQ(limits.Window("p"), 6);  // Capped.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(limits.MayStart("p")) << i;
    limits.Started("p");
  }
  EXPECT_FALSE(limits.MayStart("p"));
  EXPECT_EQ(limits.Saturated(), std::vector<std::string>{"p"});
  limits.Finished("p", /*answered=*/false);
  EXPECT_EQ(limits.Window("p"), 3);
  limits.Finished("p", false);
  limits.Finished("p", false);
  limits.Finished("p", false);
  EXPECT_EQ(limits.Window("p"), 1);  // Never below one.
  EXPECT_EQ(limits.InFlight("p"), 2);
  EXPECT_FALSE(limits.MayStart("p"));
  limits.Finished("p", false);
  limits.Finished("p", false);
  EXPECT_EQ(limits.total(), 0);
  EXPECT_TRUE(limits.MayStart("p"));
  EXPECT_TRUE(limits.Saturated().empty());
  EXPECT_TRUE(limits.InFlightByDestination().empty());
}

TEST(DestinationLimitsTest, APartnerThatNeverAnswersKeepsOneSlot) {
  DestinationLimits limits(Options(/*pool=*/256, /*per_destination=*/128));
  limits.Started("hanging");
  EXPECT_FALSE(limits.MayStart("hanging"));
  limits.Finished("hanging", false);
  limits.Started("hanging");
  EXPECT_FALSE(limits.MayStart("hanging"));
  EXPECT_EQ(limits.pooled(), 0);
}

TEST(DestinationLimitsTest, AnAbandonedDeliveryLeavesTheWindow) {
  DestinationLimits limits(Options(/*pool=*/10, /*per_destination=*/10, 3));
  limits.Started("p");
  limits.Abandoned("p");
  EXPECT_EQ(limits.Window("p"), 3);
  EXPECT_EQ(limits.total(), 0);
  // Ending what never started changes nothing.
  limits.Abandoned("q");
  limits.Finished("q", true);
  EXPECT_EQ(limits.total(), 0);
  EXPECT_EQ(limits.Window("q"), 3);
}

}  // namespace
}  // namespace ats::server
