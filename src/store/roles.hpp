// store/roles.hpp: how a consumer names the store roles it uses.
//
// A consumer takes a small struct of role references (directory, mail, queue, ...) instead of
// the whole store, so that what it may touch is visible in its type. The struct converts from
// any object that provides those roles (store::Store, or a test double):
//
//   struct FilterStore {
//     store::Directory& directory;
//     store::Mail& mail;
//     template <store::Provides<store::Directory, store::Mail> S>
//     FilterStore(S& s) : directory(s), mail(s) {}
//   };
#pragma once

#include <concepts>

namespace mk::store {

template <class S, class... Roles>
concept Provides = (std::derived_from<S, Roles> && ...);

}  // namespace mk::store
