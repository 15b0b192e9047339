// store/async_deliver.hpp: Mail::deliver() as an Asio asynchronous operation, for the
// protocol servers. The completion runs on the caller's executor (its strand), and a work
// guard keeps the io_context alive while the group commit runs on the store thread.
#pragma once

#include <memory>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "store/mail.hpp"

namespace mk::store {

template <class Token>
auto async_deliver_all(Mail& store, std::vector<NewMessage> msgs, Token&& token) {
  namespace asio = boost::asio;
  return asio::async_initiate<Token, void(DeliverResult)>(
      [&store](auto handler, std::vector<NewMessage> m) {
        using H = decltype(handler);
        auto ex = asio::get_associated_executor(handler);
        struct State {
          H handler;
          asio::executor_work_guard<decltype(ex)> work;
        };
        auto st = std::make_shared<State>(State{std::move(handler), asio::make_work_guard(ex)});
        store.deliver_all(std::move(m), [st, ex](DeliverResult r) {
          asio::post(ex, [st, r = std::move(r)]() mutable { st->handler(std::move(r)); });
        });
      },
      token, std::move(msgs));
}

template <class Token>
auto async_deliver(Mail& store, NewMessage msg, Token&& token) {
  std::vector<NewMessage> v;
  v.push_back(std::move(msg));
  return async_deliver_all(store, std::move(v), std::forward<Token>(token));
}

}  // namespace mk::store
